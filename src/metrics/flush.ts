/**
 * Ships the isolate's metric deltas to the METRICS Durable Object(s) from `ctx.waitUntil`.
 * Call once per request / queue batch after recording; never awaited by a response.
 *
 * Group commit: at most one *leader* per isolate talks to the METRICS objects. The request
 * that finds no leader becomes it and, inside its own `waitUntil`, drains the buffer and sends,
 * looping while other requests keep recording; every other request only records and returns.
 *
 * Workers rule: I/O objects and promises belong to the request that created them; awaiting them
 * from another request's context is an error. Here every stub, RPC call and promise a leader
 * awaits is created inside that leader's own `waitUntil` task, and non-leaders await nothing of
 * the leader's — they hand over data through the synchronous in-memory buffer only.
 *
 * Exactly-once: a drained batch becomes a flush with a fixed id and a fixed shard. If sending
 * fails it stays queued *with that id* and is retried before anything newer; the object skips an
 * id it has already applied, so a retry after a lost reply does not double-count.
 */
import { getConfig } from '../config';
import type { Env } from '../env';
import { MAX_DELTAS_PER_FLUSH, type MetricsFlush } from './aggregate';
import type { Metrics } from './metrics-object';
import { logLine } from '../observability/log';
import { captureException } from '../observability/report';
import { metrics } from './recorder';
import { sleep } from '../timing';
import type { WaitUntil } from '../types';

/**
 * How long a leader lingers before draining, so the records of concurrent requests coalesce
 * into one flush: at most one METRICS write per isolate per linger instead of one per request.
 * Costs a scrape at most this much freshness; responses never wait for it.
 */
export const FLUSH_LINGER_MS = 20;
/** Most flushes a leader sends before handing over (bounds one waitUntil's duration). */
const MAX_ROUNDS_PER_LEADER = 32;
/** A leader silent this long is presumed dead (its request was cancelled); another may lead. */
export const LEADER_STALE_MS = 15_000;
/** Unsent flushes kept for retry; beyond this the oldest is dropped (and logged). */
const MAX_PENDING = 64;
/** A flush is retried for at most this long (well under the object's dedupe retention). */
export const MAX_PENDING_AGE_MS = 10 * 60 * 1000;

interface PendingFlush extends MetricsFlush {
  shard: number;
  createdAt: number;
  attempts: number;
}

const state = {
  /** Generation of the current leader; 0 = none. */
  leader: 0,
  generation: 0,
  /** When the current leader last made progress. */
  beat: 0,
  /** After a failed send, no new leader starts before this time (exponential backoff). */
  backoffUntil: 0,
  pending: [] as PendingFlush[],
};

/** The shard's object: `metrics-<i>` by name, so /metrics can address every shard. */
export function metricsShard(env: Env, shard: number): DurableObjectStub<Metrics> {
  return env.METRICS.get(env.METRICS.idFromName(`metrics-${shard}`));
}

export function flushMetrics(env: Env, ctx: WaitUntil, now = Date.now()): void {
  if (metrics.pending === 0 && state.pending.length === 0) return;
  if (state.leader !== 0 && now - state.beat < LEADER_STALE_MS) return;
  if (now < state.backoffUntil) return;
  const me = ++state.generation;
  state.leader = me;
  state.beat = now;
  ctx.waitUntil(lead(env, ctx, me));
}

async function lead(env: Env, ctx: WaitUntil, me: number): Promise<void> {
  try {
    let shards: number;
    try {
      shards = (await getConfig(env)).metricsShards;
    } catch {
      return; // misconfigured: requests already get 503; keep the deltas buffered
    }
    for (let round = 0; round < MAX_ROUNDS_PER_LEADER && state.leader === me; round++) {
      let flush = state.pending[0];
      if (!flush) {
        // Nothing left after a send: hand over now rather than linger for nothing.
        if (round > 0 && metrics.pending === 0) return;
        await sleep(FLUSH_LINGER_MS);
        state.beat = Date.now();
        const deltas = metrics.drain();
        if (deltas.length === 0) return;
        for (let i = 0; i < deltas.length; i += MAX_DELTAS_PER_FLUSH) {
          enqueue({
            id: crypto.randomUUID(),
            deltas: deltas.slice(i, i + MAX_DELTAS_PER_FLUSH),
            // Any shard will do (totals are sums); spreading flushes spreads the write load.
            shard: Math.floor(Math.random() * shards),
            createdAt: Date.now(),
            attempts: 0,
          });
        }
        flush = state.pending[0]!;
      }
      try {
        flush.attempts++;
        // A fresh stub per call: stubs are I/O objects of the request that makes them.
        const result = await metricsShard(env, flush.shard).ingest({
          id: flush.id,
          deltas: flush.deltas,
        });
        remove(flush);
        // Only a recorder bug can produce deltas outside the catalogue; make it visible.
        if (result.rejected > 0)
          logLine('error', { msg: 'metrics deltas rejected by METRICS', count: result.rejected });
        state.beat = Date.now();
        state.backoffUntil = 0;
      } catch (err) {
        state.backoffUntil = Date.now() + Math.min(250 * 2 ** flush.attempts, 30_000);
        if (Date.now() - flush.createdAt > MAX_PENDING_AGE_MS) {
          remove(flush);
          logLoss(flush, 'gave up retrying');
        }
        // Reported once per backoff window at most: no new leader starts before it ends.
        captureException(env, ctx, err, {
          component: 'metrics-flush',
          attempt: String(flush.attempts),
        });
        return;
      }
    }
    // Round limit reached with the buffer possibly refilled meanwhile: hand over to a fresh
    // leader in this same invocation, so nothing recorded during the last send is stranded.
    if (state.leader === me) {
      state.leader = 0;
      flushMetrics(env, ctx);
    }
  } finally {
    // A `return` above runs this in the same synchronous step as the leader's last look at the
    // buffer, so no request can record, see a leader and skip flushing in between (which would
    // strand its deltas). A leader presumed dead and replaced must not unseat its successor.
    if (state.leader === me) state.leader = 0;
  }
}

function enqueue(flush: PendingFlush): void {
  state.pending.push(flush);
  while (state.pending.length > MAX_PENDING) {
    const dropped = state.pending.shift();
    if (dropped) logLoss(dropped, 'retry queue full');
  }
}

function remove(flush: PendingFlush): void {
  const i = state.pending.indexOf(flush);
  if (i >= 0) state.pending.splice(i, 1);
}

function logLoss(flush: PendingFlush, why: string): void {
  logLine('error', { msg: `metrics flush dropped: ${why}`, series: flush.deltas.length });
}

/** For tests: whether this isolate has nothing left to send and no leader running. */
export function flushIdle(): boolean {
  return metrics.pending === 0 && state.pending.length === 0 && state.leader === 0;
}
