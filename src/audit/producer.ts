/**
 * The audit producer: every decision becomes one event on AUDIT_QUEUE, sent from
 * `ctx.waitUntil` so the response never waits on the queue.
 */
import type { Env } from '../env';
import { metrics } from '../metrics/recorder';
import type { AuditEvent } from './event';

/** The part of an ExecutionContext the producer needs (Hono's and workerd's types differ). */
export type WaitUntil = Pick<ExecutionContext, 'waitUntil'>;

export function enqueueAudit(env: Env, ctx: WaitUntil, event: AuditEvent): void {
  ctx.waitUntil(
    env.AUDIT_QUEUE.send(event, { contentType: 'json' }).then(() => {
      metrics.inc('logs_queued_total', {});
    }),
  );
}
