/**
 * vakt's Worker entry point: HTTP (Hono app), the audit queue consumers and the retention cron,
 * plus the Durable Object classes the runtime instantiates.
 */
import { app } from './app';
import type { AuditEvent } from './audit/event';
import type { Env } from './env';
import { flushMetrics } from './metrics/flush';

export { Metrics } from './metrics/metrics-object';
export { RateLimiter } from './rate-limit/rate-limiter';

export default {
  fetch: app.fetch,
  async queue(batch, env, ctx) {
    // Audit consumer: see src/audit/consumer.ts.
    batch.retryAll();
    flushMetrics(env, ctx);
  },
} satisfies ExportedHandler<Env, AuditEvent>;
