/**
 * Ships the isolate's metric deltas to the METRICS Durable Object(s) from `ctx.waitUntil`.
 * Call once per request / queue batch after recording; never awaited by a response.
 *
 * Group commit (src/group-commit.ts): at most one leader per isolate talks to the METRICS
 * objects; it lingers FLUSH_LINGER_MS so concurrent requests' records coalesce into one flush.
 *
 * Exactly-once: a drained batch becomes a flush with a fixed id, and its shard is fixed on its
 * first send. If sending fails it stays pending *with that id and shard* and is retried before
 * anything newer; the object skips an id it has already applied, so a retry after a lost reply
 * does not double-count.
 */
import { getConfig } from '../config';
import type { Env } from '../env';
import { MAX_DELTAS_PER_FLUSH, type MetricsFlush } from './aggregate';
import { GroupCommit, type Pending } from '../group-commit';
import type { Metrics } from './metrics-object';
import { logLine } from '../observability/log';
import { captureException } from '../observability/report';
import { metrics } from './recorder';
import type { WaitUntil } from '../types';

/**
 * How long a leader lingers before draining, so the records of concurrent requests coalesce
 * into one flush: at most one METRICS write per isolate per linger instead of one per request.
 * Costs a scrape at most this much freshness; responses never wait for it.
 */
export const FLUSH_LINGER_MS = 20;
/** A leader silent this long is presumed dead (its request was cancelled); another may lead. */
export const LEADER_STALE_MS = 15_000;
/** A flush is retried for at most this long (well under the object's dedupe retention). */
export const MAX_PENDING_AGE_MS = 10 * 60 * 1000;

interface Flush extends MetricsFlush {
  /** Fixed on the first send, so every retry reaches the object that dedupes its id. */
  shard?: number;
}

const commit = new GroupCommit<Flush, Env>({
  lingerMs: FLUSH_LINGER_MS,
  maxRounds: 32,
  staleMs: LEADER_STALE_MS,
  maxPending: 64,
  buffered: () => metrics.pending > 0,
  drain: () => {
    const deltas = metrics.drain();
    const backlog = metrics.drainBacklog();
    const out: Flush[] = [];
    for (let i = 0; i < Math.max(deltas.length, 1); i += MAX_DELTAS_PER_FLUSH)
      out.push({ id: crypto.randomUUID(), deltas: deltas.slice(i, i + MAX_DELTAS_PER_FLUSH) });
    // The ledger is a few buckets; it rides with the first flush.
    if (backlog.length > 0) out[0]!.backlog = backlog;
    else if (deltas.length === 0) return [];
    return out;
  },
  send: async ({ batch: flush }, env) => {
    // Any shard will do (totals are sums); spreading flushes spreads the write load.
    flush.shard ??= Math.floor(Math.random() * (await getConfig(env)).metricsShards);
    // A fresh stub per call: stubs are I/O objects of the request that makes them.
    const result = await metricsShard(env, flush.shard).ingest({
      id: flush.id,
      deltas: flush.deltas,
      ...(flush.backlog ? { backlog: flush.backlog } : {}),
    });
    // Only a recorder bug can produce deltas outside the catalogue; make it visible.
    if (result.rejected > 0)
      logLine('error', { msg: 'metrics deltas rejected by METRICS', count: result.rejected });
  },
  failed: (p, err, env, ctx) => {
    const drop = Date.now() - p.createdAt > MAX_PENDING_AGE_MS;
    if (drop) logLoss(p, 'gave up retrying');
    // Reported once per backoff window at most: no new leader starts before it ends.
    captureException(env, ctx, err, { component: 'metrics-flush', attempt: String(p.attempts) });
    return { backoffMs: Math.min(250 * 2 ** p.attempts, 30_000), drop };
  },
  overflow: (p) => logLoss(p, 'retry queue full'),
});

/** The shard's object: `metrics-<i>` by name, so /metrics can address every shard. */
export function metricsShard(env: Env, shard: number): DurableObjectStub<Metrics> {
  return env.METRICS.get(env.METRICS.idFromName(`metrics-${shard}`));
}

export function flushMetrics(env: Env, ctx: WaitUntil, now = Date.now()): void {
  commit.kick(ctx, env, now);
}

function logLoss(p: Pending<Flush>, why: string): void {
  logLine('error', { msg: `metrics flush dropped: ${why}`, series: p.batch.deltas.length });
}

/** For tests: whether this isolate has nothing left to send and no leader running. */
export function flushIdle(): boolean {
  return commit.idle;
}
