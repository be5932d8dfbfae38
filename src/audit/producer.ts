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
import { getConfig } from '../config';
import type { Env } from '../env';
import { nextTurn, sleep } from '../timing';
import { flushMetrics } from '../metrics/flush';
import { metrics } from '../metrics/recorder';
import { captureException, type ReportTags } from '../observability/report';
import { AuditEventLostError, describeError } from './errors';
import type { AuditEvent, AuditMessageBody } from './event';
import { inputHashFields } from './input-hash';
import { SEND_ATTEMPTS, SEND_BACKOFF_MS } from './limits';
import { sanitizeEvent, toRow } from './row';
import { insertAuditRows } from './store';
import type { WaitUntil } from '../types';

export interface ProducerDeps {
  /** AUDIT_QUEUE, or anything that sends like it. */
  queue: { send(body: AuditMessageBody, options?: QueueSendOptions): Promise<unknown> };
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
      metrics.backlog(Date.parse(event.ts), { sent: 1 });
      return 'queued';
    } catch (err) {
      sendError = err;
    }
  }

  metrics.inc('logs_queued_total', {});
  metrics.backlog(Date.parse(event.ts), { sent: 1 });
  console.warn(
    JSON.stringify({
      msg: 'audit queue send failed; writing to D1 directly',
      decision_id: event.decision_id,
      error: describeError(sendError),
    }),
  );
  try {
    const inserted = await insertAuditRows(deps.db, [toRow(event)], {
      via: 'fallback',
      now: Date.now(),
      archived: false,
    });
    if (inserted.length > 0) metrics.inc('logs_written_total', {}, inserted.length);
    for (const ts of inserted) metrics.backlog(ts, { resolved: 1 });
    return 'fallback';
  } catch (err) {
    metrics.inc('logs_dropped_total', {});
    metrics.backlog(Date.parse(event.ts), { resolved: 1 });
    deps.report(new AuditEventLostError('producer', err), {
      component: 'audit_producer',
      decision_id: event.decision_id,
      send_error: describeError(sendError),
    });
    return 'dropped';
  }
}

/** An event as the route builds it; the producer adds the input's keyed hash off the response path. */
export type UnhashedAuditEvent = Omit<AuditEvent, 'input_hmac' | 'input_hmac_key_id'>;

/**
 * Hands one decision's event to the audit logger from `ctx.waitUntil`: the input is hashed
 * there (HMAC under AUDIT_HASH_KEY, src/audit/input-hash.ts), so the response never waits for it.
 */
export function enqueueAudit(
  env: Env,
  ctx: WaitUntil,
  event: UnhashedAuditEvent,
  input: unknown,
): void {
  ctx.waitUntil(
    nextTurn()
      .then(() => getConfig(env))
      .then((config) => {
        if (!config.auditHashKey && config.environment === 'production') warnNoHashKeyOnce();
        return inputHashFields(config.auditHashKey, input);
      })
      .then((hash) =>
        deliverAudit(
          {
            queue: env.AUDIT_QUEUE,
            db: env.DB,
            report: (err, tags) => captureException(env, ctx, err, tags),
          },
          { ...event, ...hash },
        ),
      )
      .then(() => {
        // The request's own flush may already have run; ship what was recorded here.
        flushMetrics(env, ctx);
      }),
  );
}

let warnedNoHashKey = false;
/** Without AUDIT_HASH_KEY events carry no input hash (never an unkeyed one); say so once. */
function warnNoHashKeyOnce(): void {
  if (warnedNoHashKey) return;
  warnedNoHashKey = true;
  console.warn(
    JSON.stringify({
      msg: 'AUDIT_HASH_KEY is not set: audit events carry no input hash (wrangler secret put AUDIT_HASH_KEY)',
    }),
  );
}
