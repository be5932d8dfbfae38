/**
 * Errors the audit pipeline reports (captureException). They carry ids and reasons only: the
 * event itself holds no personal data, but a report is still kept to what an operator needs.
 */
import { DEAD_LETTER_MAX_ERROR_CHARS } from './limits';

/** An audit event was dead-lettered: it is kept in audit_dead_letters, not in audit_log. */
export class AuditDeadLetterError extends Error {
  override readonly name = 'AuditDeadLetterError';
  constructor(
    readonly reason: string,
    readonly deadLetterId: string,
  ) {
    super(
      `audit event dead-lettered (${reason}); replay with POST /admin/audit/dead-letters/replay`,
    );
  }
}

/** An audit event could not be stored anywhere: it is lost (counted in logs_dropped_total). */
export class AuditEventLostError extends Error {
  override readonly name = 'AuditEventLostError';
  constructor(
    readonly stage: string,
    cause: unknown,
  ) {
    super(`audit event lost at ${stage}: ${describeError(cause)}`, { cause });
  }
}

/** `Name: message` of an error, bounded, for storage in audit_dead_letters.error. */
export function describeError(err: unknown): string {
  const text =
    err instanceof Error ? `${err.name}: ${err.message}` : `non-error thrown (${typeof err})`;
  return text.length > DEAD_LETTER_MAX_ERROR_CHARS
    ? text.slice(0, DEAD_LETTER_MAX_ERROR_CHARS - 1) + '…'
    : text;
}
