/**
 * The Worker's non-HTTP entry points for the audit log: the queue handler (dispatched by queue
 * name to the audit consumer or the dead-letter consumer) and the retention cron (which also
 * completes usage reports whose token charge was left pending, src/tokens/report.ts).
 */
import { getConfig } from '../config';
import type { Env } from '../env';
import { flushMetrics } from '../metrics/flush';
import { captureException } from '../observability/report';
import { archiveFor } from './archive';
import { consumeAuditBatch, consumeDeadLetterBatch, type ConsumerDeps } from './consumer';
import { AUDIT_DLQ_NAME, AUDIT_QUEUE_NAME, AUDIT_RETENTION_CRON } from './limits';
import { runRetention } from './retention';
import { logLine } from '../observability/log';
import { settlePendingUsage } from '../tokens/report';

export async function handleQueue(
  batch: MessageBatch<unknown>,
  env: Env,
  ctx: ExecutionContext,
): Promise<void> {
  const deps: ConsumerDeps = {
    db: env.DB,
    archive: archiveFor(env),
    report: (err, tags) => captureException(env, ctx, err, { queue: batch.queue, ...tags }),
  };
  try {
    switch (batch.queue) {
      case AUDIT_QUEUE_NAME:
        await consumeAuditBatch(batch, deps);
        break;
      case AUDIT_DLQ_NAME:
        await consumeDeadLetterBatch(batch, deps);
        break;
      default:
        // A queue wired in wrangler.toml without code here: keep its messages, make noise.
        captureException(env, ctx, new Error(`no consumer for queue ${batch.queue}`), {
          component: 'queue',
          queue: batch.queue,
        });
        batch.retryAll();
    }
  } catch (err) {
    // A bug, not a D1 failure (those are handled per message): report it; rethrowing makes the
    // platform redeliver every message not yet acked.
    captureException(env, ctx, err, { component: 'audit_consumer', queue: batch.queue });
    throw err;
  } finally {
    flushMetrics(env, ctx);
  }
}

export async function handleScheduled(
  controller: ScheduledController,
  env: Env,
  ctx: ExecutionContext,
): Promise<void> {
  if (controller.cron !== AUDIT_RETENTION_CRON) return;
  try {
    const config = await getConfig(env);
    const result = await runRetention(
      env.DB,
      { archive: archiveFor(env), bucket: env.AUDIT_ARCHIVE as R2Bucket | undefined },
      {
        hotDays: config.auditHotDays,
        retentionDays: config.auditRetentionDays,
        now: controller.scheduledTime,
      },
    );
    logLine('log', { msg: 'audit retention', ...result });
  } catch (err) {
    captureException(env, ctx, err, { component: 'audit_retention' });
    throw err;
  } finally {
    // Usage reports whose token charge was left pending (docs/tokens.md): whatever retention did.
    await settleUsage(env, ctx, controller.scheduledTime);
    flushMetrics(env, ctx);
  }
}

async function settleUsage(env: Env, ctx: ExecutionContext, now: number): Promise<void> {
  try {
    const result = await settlePendingUsage(env, ctx, await getConfig(env), now);
    logLine('log', { msg: 'usage settle', ...result });
  } catch (err) {
    captureException(env, ctx, err, { component: 'usage_settle' });
  }
}
