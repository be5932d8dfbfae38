/**
 * Validation of audit messages as they come off a queue. The body is untrusted data (an older or
 * newer deployment, or a hand-sent message may have produced it): a body that is not a known,
 * well-formed event version is dead-lettered at once instead of being retried forever.
 */
import { z } from '@hono/zod-openapi';
import {
  AuditEventV1Schema,
  AuditEventV2Schema,
  type AnyAuditEvent,
  type AuditMessageBody,
} from './event';

/** Events in one packed message; the producer packs far fewer (limits.ts). */
export const MAX_EVENTS_PER_PACK = 1000;

export type ParseResult = { ok: true; event: AnyAuditEvent } | { ok: false; error: string };

const SCHEMAS = { 1: AuditEventV1Schema, 2: AuditEventV2Schema } as const;

/**
 * Checks an untrusted event against the versions this build understands.
 * The error names fields and rules only — never a value from the body.
 */
export function parseAuditEvent(body: unknown): ParseResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, error: 'body is not a JSON object' };
  }
  const version = (body as { v?: unknown }).v;
  if (version !== 1 && version !== 2) {
    return {
      ok: false,
      // Only a small integer is echoed: a body is untrusted and must not leak into logs.
      error: `unknown event version (${
        Number.isInteger(version) && (version as number) >= 0 && (version as number) < 1000
          ? String(version)
          : typeof version
      })`,
    };
  }
  const result = SCHEMAS[version].safeParse(body);
  if (result.success) return { ok: true, event: result.data };
  const issues = result.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.code}`);
  return { ok: false, error: `invalid v${version} event: ${issues.join('; ')}` };
}

/** Whether a body is a pack of events rather than one event. */
export function isPack(body: unknown): body is { pack: 1; events: unknown[] } {
  return (
    typeof body === 'object' &&
    body !== null &&
    (body as { pack?: unknown }).pack === 1 &&
    Array.isArray((body as { events?: unknown }).events)
  );
}

/**
 * The events of a message body: every event of a pack (each validated on its own, so one bad
 * event never holds back the others), or the body itself as one event.
 */
export function eventsOf(body: unknown): unknown[] {
  if (!isPack(body)) return [body];
  return body.events.length <= MAX_EVENTS_PER_PACK ? body.events : [{ invalid: 'pack too large' }];
}

/** The decision_id of a body, if it carries a well-formed one (for dead-letter keys). */
export function decisionIdOf(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const id = (body as { decision_id?: unknown }).decision_id;
  return typeof id === 'string' && z.uuid().safeParse(id).success ? id : null;
}

export type { AuditMessageBody };
