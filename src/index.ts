/**
 * vakt's Worker entry point: HTTP (Hono app), the audit queue consumers and the retention cron,
 * plus the Durable Object classes the runtime instantiates.
 */
import { app } from './app';
import type { AuditMessageBody } from './audit/event';
import { handleQueue, handleScheduled } from './audit/handlers';
import type { Env } from './env';

export { Metrics } from './metrics/metrics-object';
export { RateLimiter } from './rate-limit/rate-limiter';

export default {
  fetch: app.fetch,
  // Audit consumers (vakt-audit, vakt-audit-dlq): src/audit/consumer.ts.
  queue: (batch, env, ctx) => handleQueue(batch, env, ctx),
  // Audit retention (cron "17 3 * * *"): src/audit/retention.ts.
  scheduled: (controller, env, ctx) => handleScheduled(controller, env, ctx),
} satisfies ExportedHandler<Env, AuditMessageBody>;
