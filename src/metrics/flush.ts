/**
 * Ships the isolate's metric deltas to the METRICS Durable Object(s) from `ctx.waitUntil`.
 * Call once per request / queue batch after recording; never awaited by a response.
 */
import type { Env } from '../env';

export type WaitUntil = Pick<ExecutionContext, 'waitUntil'>;

export function flushMetrics(_env: Env, _ctx: WaitUntil): void {
  // Implemented by the metrics Durable Object work (issue 4).
}
