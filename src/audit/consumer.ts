/**
 * The audit queue consumers.
 *
 * vakt-audit: a message carries one event or a pack of many (the producer's group commit).
 * Every event is validated on its own; an invalid one is dead-lettered at once. The batch's
 * valid events are first written to the R2 archive (when one is bound; archive.ts) — before any
 * message is acked — and then to D1 in one idempotent, size-bounded transaction (store.ts).
 * Each message is acked on its own once all its events are stored or dead-lettered.
 *
 * Failures: if the archive refuses the batch, every message is retried like a D1 failure, except
 * on its final delivery, where its rows go to D1 unarchived (`archived = 0`) and the retention
 * cron archives them before it trims them. If the D1 transaction fails, messages are retried one
 * by one, then rows one by one, so a poison event cannot hold the others back; a failing message
 * is retried with exponential backoff (`msg.attempts`) and, on its final delivery, its failing
 * events are kept in audit_dead_letters with the real error. Only if even that write fails is the
 * message left to the platform's dead-letter queue.
 *
 * vakt-audit-dlq: keeps every event of a message that exhausted its retries in
 * audit_dead_letters, counts it in logs_dropped_total and reports it.
 *
 * D1, the archive and the error reporter come in as parameters, so tests can hand in failing ones.
 */
import { metrics } from '../metrics/recorder';
import type { ReportTags } from '../observability/report';
import type { AuditArchive } from './archive';
import { AuditDeadLetterError, AuditEventLostError, describeError } from './errors';
import type { AnyAuditEvent } from './event';
import {
  AUDIT_DLQ_MAX_RETRIES,
  AUDIT_MAX_RETRIES,
  AUDIT_QUEUE_NAME,
  backoffSeconds,
  DEAD_LETTER_MAX_PAYLOAD_CHARS,
  dlqBackoffSeconds,
} from './limits';
import { rowOf, rowToEvent, sanitizeEvent, scrubJson, toRow, type AuditRow } from './row';
import { insertAuditRows, storeDeadLetter, type DeadLetterReason } from './store';
import { decisionIdOf, eventsOf, isPack, parseAuditEvent } from './validate';
import { logLine } from '../observability/log';

export interface ConsumerDeps {
  db: D1Database;
  /** The R2 archive; without one, rows are stored unarchived. */
  archive?: AuditArchive | undefined;
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
  /** Events written to the archive (duplicates within the batch once). */
  archived: number;
  outcomes: MessageOutcome[];
}

interface DeadLetterFacts {
  reason: DeadLetterReason;
  error: string;
  decisionId: string | null;
  /** Decision time (epoch ms) when known, for the backlog ledger. */
  ts: number | null;
  /** Deliveries on vakt-audit. */
  attempts: number;
  /** What to keep for replay: the (scrubbed) event, or the scrubbed body of an invalid one. */
  payload: unknown;
}

/** One message's events, as parsed. */
interface Parsed {
  msg: Message<unknown>;
  rows: AuditRow[];
  events: AnyAuditEvent[];
  invalid: { body: unknown; error: string; index: number }[];
}

class BatchRun {
  readonly outcomes: MessageOutcome[] = [];
  written = 0;
  dropped = 0;
  archived = 0;
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

  /** Counts rows D1 reported as new (by their decision times, for the backlog ledger). */
  wrote(tsOfNewRows: readonly number[]): void {
    this.written += tsOfNewRows.length;
    for (const ts of tsOfNewRows) metrics.backlog(ts, { resolved: 1 });
  }

  /**
   * Keeps one event as a dead letter. Returns false (after reporting) if D1 refuses even that;
   * the caller then retries the message, which on its final delivery hands it to the platform's
   * dead-letter queue.
   */
  async deadLetter(
    msg: Message<unknown>,
    id: string,
    d: DeadLetterFacts,
    component: string,
  ): Promise<{ kept: true } | { kept: false; error: unknown }> {
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
        if (d.ts !== null) metrics.backlog(d.ts, { resolved: 1 });
        this.deps.report(new AuditDeadLetterError(d.reason, id), {
          component,
          dead_letter_id: id,
          reason: d.reason,
        });
      }
      return { kept: true };
    } catch (error) {
      this.deps.report(error, { component, stage: 'store_dead_letter', dead_letter_id: id });
      return { kept: false, error };
    }
  }

  finish(): BatchSummary {
    if (this.written > 0) metrics.inc('logs_written_total', {}, this.written);
    if (this.dropped > 0) metrics.inc('logs_dropped_total', {}, this.dropped);
    return {
      written: this.written,
      dropped: this.dropped,
      archived: this.archived,
      outcomes: this.outcomes,
    };
  }
}

/** Dead-letter id of an event without a valid decision_id. */
function messageKey(msg: Message<unknown>, index: number): string {
  return isPack(msg.body) ? `message:${msg.id}:${index}` : `message:${msg.id}`;
}

function parseMessage(msg: Message<unknown>): Parsed {
  const p: Parsed = { msg, rows: [], events: [], invalid: [] };
  eventsOf(msg.body).forEach((body, index) => {
    const parsed = parseAuditEvent(body);
    if (parsed.ok) {
      const event = sanitizeEvent(parsed.event);
      p.events.push(event);
      p.rows.push(rowOf(event));
    } else {
      p.invalid.push({ body, error: parsed.error, index });
    }
  });
  return p;
}

/** Consumer of vakt-audit. Never throws: every message is acked or retried explicitly. */
export async function consumeAuditBatch(
  batch: MessageBatch<unknown>,
  deps: ConsumerDeps,
): Promise<BatchSummary> {
  const run = new BatchRun(deps, backoffSeconds);
  const finalDelivery = (m: Message<unknown>) => m.attempts > AUDIT_MAX_RETRIES;
  let todo: Parsed[] = [];

  for (const msg of batch.messages) {
    const p = parseMessage(msg);
    // A body this build cannot read will not become readable by retrying: dead-letter it now.
    let kept = true;
    for (const bad of p.invalid) {
      const r = await run.deadLetter(
        msg,
        decisionIdOf(bad.body) ?? messageKey(msg, bad.index),
        {
          reason: 'invalid_event',
          error: bad.error,
          decisionId: decisionIdOf(bad.body),
          ts: null,
          attempts: msg.attempts,
          payload: scrubJson(bad.body),
        },
        'audit_consumer',
      );
      kept &&= r.kept;
    }
    if (!kept) run.retry(msg);
    else if (p.rows.length === 0)
      run.ack(msg, p.invalid.length ? deadLettered(msg) : { id: msg.id, action: 'written' });
    else todo.push(p);
  }
  if (todo.length === 0) return run.finish();

  // The archive first: nothing is acked before its events are in R2.
  let archived = false;
  if (deps.archive) {
    try {
      run.archived = await deps.archive.put(
        todo.flatMap((p) => p.events),
        'queue',
      );
      archived = true;
    } catch (err) {
      deps.report(err, { component: 'audit_consumer', stage: 'archive' });
      // Retried like a D1 failure; on its final delivery a message is still written to D1,
      // unarchived, and the retention cron archives it before trimming.
      const later = todo.filter((p) => !finalDelivery(p.msg));
      for (const p of later) run.retry(p.msg);
      todo = todo.filter((p) => finalDelivery(p.msg));
      if (todo.length === 0) return run.finish();
    }
  }

  const write = (rows: AuditRow[]) =>
    insertAuditRows(deps.db, rows, { via: 'queue', now: run.now, archived });
  try {
    run.wrote(await write(todo.flatMap((p) => p.rows)));
    for (const p of todo) run.ack(p.msg, written(p));
    return run.finish();
  } catch (batchErr) {
    // Some row (or D1 itself) failed; find out which, one message and then one row at a time.
    logLine('warn', {
      msg: 'audit batch insert failed; isolating messages',
      error: describeError(batchErr),
      messages: todo.length,
    });
  }
  for (const p of todo) {
    try {
      run.wrote(await write(p.rows));
      run.ack(p.msg, written(p));
      continue;
    } catch {
      // isolate the rows below
    }
    const failed: { row: AuditRow; event: AnyAuditEvent; err: unknown }[] = [];
    for (let i = 0; i < p.rows.length; i++) {
      try {
        run.wrote(await write([p.rows[i]!]));
      } catch (err) {
        failed.push({ row: p.rows[i]!, event: p.events[i]!, err });
        deps.report(err, {
          component: 'audit_consumer',
          stage: 'insert',
          decision_id: p.rows[i]!.decision_id,
          attempts: String(p.msg.attempts),
        });
      }
    }
    if (failed.length === 0) {
      run.ack(p.msg, written(p));
      continue;
    }
    if (!finalDelivery(p.msg)) {
      run.retry(p.msg);
      continue;
    }
    let kept = true;
    for (const f of failed) {
      const r = await run.deadLetter(
        p.msg,
        f.row.decision_id,
        {
          reason: 'write_failed',
          error: describeError(f.err),
          decisionId: f.row.decision_id,
          ts: f.row.ts,
          attempts: p.msg.attempts,
          payload: rowToEvent(f.row),
        },
        'audit_consumer',
      );
      kept &&= r.kept;
    }
    if (kept) run.ack(p.msg, { id: p.msg.id, action: 'dead_lettered', reason: 'write_failed' });
    else run.retry(p.msg);
  }
  return run.finish();
}

function written(p: Parsed): MessageOutcome {
  return p.invalid.length > 0 ? deadLettered(p.msg) : { id: p.msg.id, action: 'written' };
}

function deadLettered(msg: Message<unknown>): MessageOutcome {
  return { id: msg.id, action: 'dead_lettered', reason: 'invalid_event' };
}

/** Consumer of vakt-audit-dlq. Never throws. */
export async function consumeDeadLetterBatch(
  batch: MessageBatch<unknown>,
  deps: ConsumerDeps,
): Promise<BatchSummary> {
  const run = new BatchRun(deps, dlqBackoffSeconds);
  // The platform moved it here after its last delivery on vakt-audit.
  const attempts = AUDIT_MAX_RETRIES + 1;
  for (const msg of batch.messages) {
    let lastError: unknown;
    const lost: unknown[] = [];
    let outcome: MessageOutcome = {
      id: msg.id,
      action: 'dead_lettered',
      reason: 'retries_exhausted',
    };
    const bodies = eventsOf(msg.body);
    for (let index = 0; index < bodies.length; index++) {
      const body = bodies[index];
      const parsed = parseAuditEvent(body);
      const r = await run.deadLetter(
        msg,
        decisionIdOf(body) ?? messageKey(msg, index),
        parsed.ok
          ? {
              reason: 'retries_exhausted',
              error: `not written after ${attempts} deliveries on ${AUDIT_QUEUE_NAME}; each failure was reported with this decision_id`,
              decisionId: parsed.event.decision_id,
              ts: Date.parse(parsed.event.ts),
              attempts,
              payload: rowToEvent(toRow(parsed.event)),
            }
          : {
              reason: 'invalid_event',
              error: parsed.error,
              decisionId: decisionIdOf(body),
              ts: null,
              attempts,
              payload: scrubJson(body),
            },
        'audit_dlq',
      );
      if (!parsed.ok) outcome = { id: msg.id, action: 'dead_lettered', reason: 'invalid_event' };
      if (!r.kept) {
        lost.push(body);
        lastError = r.error;
      }
    }
    if (lost.length === 0) {
      run.ack(msg, outcome);
    } else if (msg.attempts > AUDIT_DLQ_MAX_RETRIES) {
      // Nowhere left to keep them: count and report the loss, then let go. Events of the same
      // message that were kept are not counted again (their dead letters exist).
      for (const body of lost) {
        run.dropped++;
        const parsed = parseAuditEvent(body);
        if (parsed.ok) metrics.backlog(Date.parse(parsed.event.ts), { resolved: 1 });
      }
      deps.report(new AuditEventLostError('dead_letter_queue', lastError), {
        component: 'audit_dlq',
        dead_letter_id: decisionIdOf(lost[0]) ?? `message:${msg.id}`,
        events: String(lost.length),
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
