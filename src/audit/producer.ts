/**
 * The audit producer: every decision becomes one event on AUDIT_QUEUE, sent from
 * `ctx.waitUntil` so the response never waits on the queue.
 *
 * Nothing may silently vanish: a failed `send()` is retried briefly, then the event is written
 * straight to D1 with the consumer's idempotent insert (if the send did get through after all,
 * the consumer's insert is a no-op). Only an event that neither the queue nor D1 accepts is
 * counted in logs_dropped_total and reported.
 *
 * Counter bookkeeping (so that async_logger_queue_size = queued - written - dropped is the number
 * of events in flight): logs_queued_total counts every event handed to the audit logger exactly
 * once — sent to the queue, written by the fallback, or dropped here.
 */
import type { Env } from '../env';
import { nextTurn, sleep } from '../timing';
import { canonicalJson } from '../governance/policy';
import type { CheckRequestInput } from '../governance/types';
import { sha256Hex } from '../hash';
import { flushMetrics } from '../metrics/flush';
import { metrics } from '../metrics/recorder';
import { captureException, type ReportTags } from '../observability/report';
import { AuditEventLostError, describeError } from './errors';
import type { AuditEvent } from './event';
import { SEND_ATTEMPTS, SEND_BACKOFF_MS } from './limits';
import { sanitizeEvent, toRow } from './row';
import { insertAuditRows } from './store';
import type { WaitUntil } from '../types';

export interface ProducerDeps {
  /** AUDIT_QUEUE, or anything that sends like it. */
  queue: { send(event: AuditEvent, options?: QueueSendOptions): Promise<unknown> };
  db: D1Database;
  report: (err: unknown, tags: ReportTags) => void;
  /** Pause between send attempts; injectable so tests need not wait. */
  sleep?: (ms: number) => Promise<void>;
}

export type DeliveryOutcome = 'queued' | 'fallback' | 'dropped';

/** Sends one event, falling back to D1; never throws. */
export async function deliverAudit(deps: ProducerDeps, raw: AuditEvent): Promise<DeliveryOutcome> {
  // No personal data in the queue either: redact client-influenced strings before sending.
  const event = sanitizeEvent(raw);
  let sendError: unknown;
  for (let attempt = 0; attempt < SEND_ATTEMPTS; attempt++) {
    if (attempt > 0) await (deps.sleep ?? sleep)(SEND_BACKOFF_MS[attempt - 1] ?? 100);
    try {
      await deps.queue.send(event, { contentType: 'json' });
      metrics.inc('logs_queued_total', {});
      return 'queued';
    } catch (err) {
      sendError = err;
    }
  }

  metrics.inc('logs_queued_total', {});
  console.warn(
    JSON.stringify({
      msg: 'audit queue send failed; writing to D1 directly',
      decision_id: event.decision_id,
      error: describeError(sendError),
    }),
  );
  try {
    const inserted = await insertAuditRows(deps.db, [toRow(event)], 'fallback', Date.now());
    if (inserted > 0) metrics.inc('logs_written_total', {}, inserted);
    return 'fallback';
  } catch (err) {
    metrics.inc('logs_dropped_total', {});
    deps.report(new AuditEventLostError('producer', err), {
      component: 'audit_producer',
      decision_id: event.decision_id,
      send_error: describeError(sendError),
    });
    return 'dropped';
  }
}

/** An event as the route builds it; the producer adds the input's hash off the response path. */
export type UnhashedAuditEvent = Omit<AuditEvent, 'input_sha256'>;

/** Hex SHA-256 of the input as checked: the string, or the canonical JSON of a chat array. */
export function inputSha256(input: CheckRequestInput): Promise<string> {
  return sha256Hex(typeof input === 'string' ? input : canonicalJson(input));
}

/**
 * Hands one decision's event to the audit logger from `ctx.waitUntil`: the input is hashed
 * there, so the response never waits for it (up to MAX_BODY_BYTES of SHA-256).
 */
export function enqueueAudit(
  env: Env,
  ctx: WaitUntil,
  event: UnhashedAuditEvent,
  input: CheckRequestInput,
): void {
  ctx.waitUntil(
    nextTurn()
      .then(() => inputSha256(input))
      .then((input_sha256) =>
        deliverAudit(
          {
            queue: env.AUDIT_QUEUE,
            db: env.DB,
            report: (err, tags) => captureException(env, ctx, err, tags),
          },
          { ...event, input_sha256 },
        ),
      )
      .then(() => {
        // The request's own flush may already have run; ship what was recorded here.
        flushMetrics(env, ctx);
      }),
  );
}
