/**
 * Accounting for a rate limiter that could not answer: every such request is counted in
 * `rate_limit_failures_total{mode}`, and reported through `captureException` — at most once per
 * mode per `REPORT_INTERVAL_MS` per isolate, so an outage at a thousand requests a second becomes
 * a handful of error reports (each one a subrequest to Sentry), not a thousand. The counter
 * carries the volume.
 */
import type { RateLimitFailureMode } from '../config';
import type { Env } from '../env';
import { metrics } from '../metrics/recorder';
import { captureException, type ReportTags } from '../observability/report';
import type { WaitUntil } from '../types';

export const REPORT_INTERVAL_MS = 10_000;

const lastReport = new Map<RateLimitFailureMode, number>();

export function recordRateLimitFailure(
  env: Env,
  ctx: WaitUntil,
  failure: { mode: RateLimitFailureMode; error: unknown },
  tags: ReportTags,
  now = Date.now(),
): void {
  metrics.inc('rate_limit_failures_total', { mode: failure.mode });
  const last = lastReport.get(failure.mode);
  if (last !== undefined && now - last < REPORT_INTERVAL_MS) return;
  lastReport.set(failure.mode, now);
  captureException(env, ctx, failure.error, {
    ...tags,
    component: 'rate_limiter',
    mode: failure.mode,
  });
}
