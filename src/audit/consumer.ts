/**
 * The audit queue consumers.
 *
 * vakt-audit: validates each message, writes the batch to D1 in one idempotent statement and acks
 * each message on its own. When the batch statement fails, rows are retried one by one so a
 * poison message cannot hold the others back; a failing message is retried with exponential
 * backoff (`msg.attempts`) and, on its final delivery, kept in audit_dead_letters with the real
 * error. Only if even that write fails is it left to the platform's dead-letter queue.
 *
 * vakt-audit-dlq: keeps every message that exhausted its retries in audit_dead_letters, counts it
 * in logs_dropped_total and reports it.
 *
 * D1 and the error reporter come in as parameters, so tests can hand in a failing database.
 */
import { metrics } from '../metrics/recorder';
import type { ReportTags } from '../observability/report';
import { AuditDeadLetterError, AuditEventLostError, describeError } from './errors';
import {
  AUDIT_DLQ_MAX_RETRIES,
  AUDIT_MAX_RETRIES,
  AUDIT_QUEUE_NAME,
  backoffSeconds,
  DEAD_LETTER_MAX_PAYLOAD_CHARS,
  dlqBackoffSeconds,
} from './limits';
import { rowToEvent, scrubJson, toRow, type AuditRow } from './row';
import { insertAuditRows, storeDeadLetter, type DeadLetterReason } from './store';
import { decisionIdOf, parseAuditEvent } from './validate';

export interface ConsumerDeps {
  db: D1Database;
  report: (err: unknown, tags: ReportTags) => void;
  /** Epoch ms; injectable for tests. */
  now?: () => number;
}

/** What happened to one message (returned for tests and the benchmark; the queue sees ack/retry). */
export type MessageOutcome =
  | { id: string; action: 'written' }
  | { id: string; action: 'dead_lettered'; reason: DeadLetterReason }
  | { id: string; action: 'retry'; delaySeconds: number }
  | { id: string; action: 'lost' };

export interface BatchSummary {
  /** Rows newly inserted into audit_log. */
  written: number;
  /** Events newly counted in logs_dropped_total. */
  dropped: number;
  outcomes: MessageOutcome[];
}

interface DeadLetterFacts {
  reason: DeadLetterReason;
  error: string;
  decisionId: string | null;
  /** Deliveries on vakt-audit. */
  attempts: number;
  /** What to keep for replay: the (redacted) event, or the redacted body of an invalid one. */
  payload: unknown;
}

class BatchRun {
  readonly outcomes: MessageOutcome[] = [];
  written = 0;
  dropped = 0;
  readonly now: number;

  constructor(
    readonly deps: ConsumerDeps,
    private readonly backoff: (attempts: number) => number,
  ) {
    this.now = deps.now?.() ?? Date.now();
  }

  ack(msg: Message<unknown>, outcome: MessageOutcome): void {
    msg.ack();
    this.outcomes.push(outcome);
  }

  retry(msg: Message<unknown>): void {
    const delaySeconds = this.backoff(msg.attempts);
    msg.retry({ delaySeconds });
    this.outcomes.push({ id: msg.id, action: 'retry', delaySeconds });
  }

  /**
   * Keeps `msg` as a dead letter and acks it. If D1 refuses even that, the message is retried,
   * which on its final delivery hands it to the platform's dead-letter queue.
   */
  async deadLetter(
    msg: Message<unknown>,
    d: DeadLetterFacts,
    component: string,
  ): Promise<{ kept: true } | { kept: false; error: unknown }> {
    const id = d.decisionId ?? `message:${msg.id}`;
    try {
      const isNew = await storeDeadLetter(this.deps.db, {
        id,
        decision_id: d.decisionId,
        message_id: msg.id,
        queue: AUDIT_QUEUE_NAME,
        reason: d.reason,
        error: d.error,
        attempts: d.attempts,
        payload: payloadText(d.payload),
        dead_at: this.now,
      });
      if (isNew) {
        this.dropped++;
        this.deps.report(new AuditDeadLetterError(d.reason, id), {
          component,
          dead_letter_id: id,
          reason: d.reason,
        });
      }
      this.ack(msg, { id: msg.id, action: 'dead_lettered', reason: d.reason });
      return { kept: true };
    } catch (error) {
      this.deps.report(error, { component, stage: 'store_dead_letter', dead_letter_id: id });
      return { kept: false, error };
    }
  }

  finish(): BatchSummary {
    if (this.written > 0) metrics.inc('logs_written_total', {}, this.written);
    if (this.dropped > 0) metrics.inc('logs_dropped_total', {}, this.dropped);
    return { written: this.written, dropped: this.dropped, outcomes: this.outcomes };
  }
}

/** Consumer of vakt-audit. Never throws: every message is acked or retried explicitly. */
export async function consumeAuditBatch(
  batch: MessageBatch<unknown>,
  deps: ConsumerDeps,
): Promise<BatchSummary> {
  const run = new BatchRun(deps, backoffSeconds);
  const valid: { msg: Message<unknown>; row: AuditRow }[] = [];

  for (const msg of batch.messages) {
    const parsed = parseAuditEvent(msg.body);
    if (parsed.ok) {
      valid.push({ msg, row: toRow(parsed.event) });
      continue;
    }
    // A body this build cannot read will not become readable by retrying: dead-letter it now.
    const result = await run.deadLetter(
      msg,
      {
        reason: 'invalid_event',
        error: parsed.error,
        decisionId: decisionIdOf(msg.body),
        attempts: msg.attempts,
        payload: scrubJson(msg.body),
      },
      'audit_consumer',
    );
    if (!result.kept) run.retry(msg);
  }

  if (valid.length > 0) {
    try {
      run.written += await insertAuditRows(
        deps.db,
        valid.map((v) => v.row),
        'queue',
        run.now,
      );
      for (const { msg } of valid) run.ack(msg, { id: msg.id, action: 'written' });
    } catch (batchErr) {
      // Some row (or D1 itself) failed; find out which, one row at a time.
      console.warn(
        JSON.stringify({
          msg: 'audit batch insert failed; isolating rows',
          error: describeError(batchErr),
          size: valid.length,
        }),
      );
      for (const { msg, row } of valid) {
        try {
          run.written += await insertAuditRows(deps.db, [row], 'queue', run.now);
          run.ack(msg, { id: msg.id, action: 'written' });
        } catch (err) {
          await rowFailed(run, msg, row, err);
        }
      }
    }
  }
  return run.finish();
}

async function rowFailed(
  run: BatchRun,
  msg: Message<unknown>,
  row: AuditRow,
  err: unknown,
): Promise<void> {
  run.deps.report(err, {
    component: 'audit_consumer',
    stage: 'insert',
    decision_id: row.decision_id,
    attempts: String(msg.attempts),
  });
  const finalDelivery = msg.attempts > AUDIT_MAX_RETRIES;
  if (finalDelivery) {
    const result = await run.deadLetter(
      msg,
      {
        reason: 'write_failed',
        error: describeError(err),
        decisionId: row.decision_id,
        attempts: msg.attempts,
        payload: rowToEvent(row),
      },
      'audit_consumer',
    );
    if (result.kept) return;
  }
  run.retry(msg);
}

/** Consumer of vakt-audit-dlq. Never throws. */
export async function consumeDeadLetterBatch(
  batch: MessageBatch<unknown>,
  deps: ConsumerDeps,
): Promise<BatchSummary> {
  const run = new BatchRun(deps, dlqBackoffSeconds);
  for (const msg of batch.messages) {
    const parsed = parseAuditEvent(msg.body);
    // The platform moved it here after its last delivery on vakt-audit.
    const attempts = AUDIT_MAX_RETRIES + 1;
    const result = await run.deadLetter(
      msg,
      parsed.ok
        ? {
            reason: 'retries_exhausted',
            error: `not written after ${attempts} deliveries on ${AUDIT_QUEUE_NAME}; each failure was reported with this decision_id`,
            decisionId: parsed.event.decision_id,
            attempts,
            payload: rowToEvent(toRow(parsed.event)),
          }
        : {
            reason: 'invalid_event',
            error: parsed.error,
            decisionId: decisionIdOf(msg.body),
            attempts,
            payload: scrubJson(msg.body),
          },
      'audit_dlq',
    );
    if (result.kept) continue;
    if (msg.attempts > AUDIT_DLQ_MAX_RETRIES) {
      // Nowhere left to keep it: count and report the loss, then let it go.
      run.dropped++;
      deps.report(new AuditEventLostError('dead_letter_queue', result.error), {
        component: 'audit_dlq',
        dead_letter_id: decisionIdOf(msg.body) ?? `message:${msg.id}`,
      });
      msg.ack();
      run.outcomes.push({ id: msg.id, action: 'lost' });
    } else {
      run.retry(msg);
    }
  }
  return run.finish();
}

function payloadText(payload: unknown): string | null {
  let text: string | undefined;
  try {
    text = JSON.stringify(payload);
  } catch {
    return null; // not JSON-serialisable (e.g. a cyclic structure); the row keeps the error
  }
  if (text === undefined || text.length > DEAD_LETTER_MAX_PAYLOAD_CHARS) return null;
  return text;
}
