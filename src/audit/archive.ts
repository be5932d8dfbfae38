/**
 * The audit archive: the long-term, immutable record of every audit event (R2 bucket
 * AUDIT_ARCHIVE). The consumer writes a batch's events here before it acks the batch.
 */
import type { AnyAuditEvent } from './event';
import type { AuditVia } from './row';

export interface AuditArchive {
  /**
   * Writes the events as immutable objects and returns how many distinct events were written.
   * Throws if any object could not be written (the caller retries the whole batch).
   */
  put(events: readonly AnyAuditEvent[], via: AuditVia): Promise<number>;
}
