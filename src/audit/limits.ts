/**
 * Audit pipeline constants. The queue names and retry counts mirror the `[[queues.consumers]]`
 * blocks of wrangler.toml (test/node/audit-wrangler.test.ts keeps the two in step): the consumer
 * needs them to recognise a message's final delivery and to dispatch a batch by queue name.
 */

/** The audit queue and its dead-letter queue. */
export const AUDIT_QUEUE_NAME = 'vakt-audit';
export const AUDIT_DLQ_NAME = 'vakt-audit-dlq';

/** `max_retries` of the vakt-audit consumer: a message is delivered at most this + 1 times. */
export const AUDIT_MAX_RETRIES = 3;
/** `max_retries` of the vakt-audit-dlq consumer. */
export const AUDIT_DLQ_MAX_RETRIES = 5;
/** `retry_delay` of the vakt-audit consumer: the first backoff step, in seconds. */
export const AUDIT_RETRY_BASE_S = 2;
/** Longest backoff step (Queues allows up to 12 h; an audit event should not wait that long). */
export const AUDIT_RETRY_MAX_S = 300;

/** The cron trigger that runs audit retention (wrangler.toml `[triggers] crons`). */
export const AUDIT_RETENTION_CRON = '17 3 * * *';

/** Producer: `send()` attempts before falling back to a direct D1 write, and the pause between. */
export const SEND_ATTEMPTS = 3;
export const SEND_BACKOFF_MS = [25, 100] as const;

/** Dead-letter payloads larger than this are kept without the payload (Queues caps a message at 128 KB). */
export const DEAD_LETTER_MAX_PAYLOAD_CHARS = 128 * 1024;
/** Stored error text is truncated to this many characters. */
export const DEAD_LETTER_MAX_ERROR_CHARS = 500;

/**
 * Exponential backoff for a message that failed on delivery `attempts` (1-based):
 * 2 s, 4 s, 8 s, … capped at AUDIT_RETRY_MAX_S.
 */
export function backoffSeconds(attempts: number): number {
  const n = Math.max(1, Math.floor(attempts));
  return Math.min(AUDIT_RETRY_BASE_S * 2 ** (n - 1), AUDIT_RETRY_MAX_S);
}

/**
 * Backoff of the dead-letter consumer while D1 refuses its write: 30 s, 60 s, … capped at 10 min,
 * so its 6 deliveries span about 15 minutes of D1 unavailability before an event is counted lost.
 */
export function dlqBackoffSeconds(attempts: number): number {
  const n = Math.max(1, Math.floor(attempts));
  return Math.min(30 * 2 ** (n - 1), 600);
}
