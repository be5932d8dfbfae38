/**
 * The audit producer: group commit with packed queue messages.
 *
 * Every decision's event goes into a per-isolate buffer from `ctx.waitUntil` (the response never
 * waits); one leader (src/group-commit.ts, the primitive the metrics flush uses too) lingers
 * LINGER_MS so concurrent decisions coalesce (not when the isolate sees one decision at a time:
 * there is nothing to wait for), then packs the buffer into messages of up to
 * MAX_EVENTS_PER_MESSAGE events / MAX_MESSAGE_BYTES, and sends up to MAX_MESSAGES_PER_SEND of
 * them per `sendBatch` (within MAX_SEND_BYTES). Queues limits each message to 128 KB and each
 * `sendBatch` to 100 messages / 256 KB, and a queue to 5,000 messages/s: one message per decision
 * capped vakt at 5,000 decisions/s, a packed message carries up to 100.
 *
 * Nothing may silently vanish. A failed or throttled `sendBatch` ("Too Many Requests") is retried
 * with backoff; then the events are stored directly — the R2 archive (when bound) and D1, with the
 * consumer's idempotent writes (if the send did get through after all, the consumer's writes are
 * no-ops and readers deduplicate the archive by decision_id). Only events that nothing accepts are
 * counted in logs_dropped_total and reported (one report per flush, listing the decision ids).
 * A leader that dies mid-flush (its request cancelled) leaves its batch pending; the next
 * request's leader sends it again once the dead one has been silent for LEADER_STALE_MS.
 *
 * Counters: logs_queued_total counts every event once when its fate is settled — accepted by
 * the queue, stored directly, or dropped here; logs_queue_messages_total counts messages sent,
 * so queued ÷ messages is the packing ratio. The backlog ledger (backlog.ts) books each event
 * `sent` at the same moment, and `resolved` where it is written or dropped.
 */
import { getConfig } from '../config';
import type { Env } from '../env';
import { GroupCommit } from '../group-commit';
import { flushMetrics } from '../metrics/flush';
import { metrics } from '../metrics/recorder';
import { captureException, type CaptureOptions, type ReportTags } from '../observability/report';
import { nextTurn, sleep } from '../timing';
import { archiveFor, type AuditArchive } from './archive';
import { AuditEventLostError, describeError } from './errors';
import type { AuditEvent, AuditMessageBody } from './event';
import { inputHashFields } from './input-hash';
import { toRow, sanitizeEvent } from './row';
import { insertAuditRows } from './store';
import type { WaitUntil } from '../types';
import { logLine } from '../observability/log';
import { currentTrace } from '../observability/request-trace';

/** How long a leader lingers so concurrent decisions share a message. */
export const LINGER_MS = 25;
/** Events per queue message. */
export const MAX_EVENTS_PER_MESSAGE = 100;
/** JSON bytes per message (Queues: 128 KB, with headroom for the envelope). */
export const MAX_MESSAGE_BYTES = 96 * 1024;
/** Messages per sendBatch (Queues: 100). */
export const MAX_MESSAGES_PER_SEND = 100;
/** JSON bytes per sendBatch (Queues: 256 KB, with headroom). */
export const MAX_SEND_BYTES = 224 * 1024;
/** Pauses between sendBatch attempts (then direct storage); ±50 % jitter spreads isolates. */
export const SEND_BACKOFF_MS = [50, 250, 1000] as const;
/** A leader silent this long is presumed dead; its pending batch is sent by the next one. */
export const LEADER_STALE_MS = 15_000;
/** Events buffered per isolate; beyond this an event is stored directly by its own request. */
export const MAX_BUFFERED_EVENTS = 20_000;
/** Decision ids listed in one loss report. */
const MAX_REPORTED_IDS = 500;

export interface ProducerDeps {
  /** AUDIT_QUEUE, or anything that sends like it. */
  queue: {
    sendBatch(messages: Iterable<MessageSendRequest<AuditMessageBody>>): Promise<unknown>;
  };
  db: D1Database;
  /** The R2 archive; without one, direct writes go to D1 only (archived later by the cron). */
  archive?: AuditArchive | undefined;
  report: (err: unknown, tags: ReportTags, options?: CaptureOptions) => void;
  /** Ships the metrics recorded by a flush (the leader's own context). */
  flush?: (ctx: WaitUntil) => void;
  /** Pause between attempts; injectable so tests need not wait. */
  sleep?: (ms: number) => Promise<void>;
}

/** One leader round: the messages of one sendBatch. */
interface SendBatch {
  messages: AuditEvent[][];
}

interface Buffered {
  event: AuditEvent;
  bytes: number;
}

/** The buffer and its group commit, one per (queue, database) binding pair. */
export class AuditProducer {
  #buffer: Buffered[] = [];
  /**
   * Decisions of this isolate whose events are on their way in (being hashed): while there are
   * any, the leader lingers for them; an isolate with one decision at a time does not wait.
   */
  #incoming = 0;
  readonly #commit: GroupCommit<SendBatch, ProducerDeps>;

  constructor() {
    this.#commit = new GroupCommit<SendBatch, ProducerDeps>({
      lingerMs: LINGER_MS,
      shouldLinger: () => this.#incoming > 0 || this.#buffer.length > 1,
      maxRounds: 32,
      staleMs: LEADER_STALE_MS,
      maxPending: 1000,
      buffered: () => this.#buffer.length > 0,
      drain: () => {
        const taken = this.#buffer;
        this.#buffer = [];
        return pack(taken);
      },
      send: async (p, deps, ctx) => {
        await this.#send(p.batch, deps, ctx);
        deps.flush?.(ctx);
      },
      // #send never throws: every failure ends in direct storage or a counted loss.
      failed: () => ({ backoffMs: 0, drop: true }),
      overflow: () => {},
    });
  }

  /** Announces an event that `add` will bring (see #incoming); pair with `add` or `cancel`. */
  expect(): void {
    this.#incoming++;
  }

  /** An announced event that will not come after all. */
  cancel(): void {
    this.#incoming = Math.max(0, this.#incoming - 1);
  }

  /** Buffers a (sanitized) event and makes sure a leader will send it. */
  add(
    event: AuditEvent,
    deps: ProducerDeps,
    ctx: WaitUntil,
    now = Date.now(),
  ): Promise<void> | undefined {
    this.cancel(); // it has arrived
    if (this.#buffer.length >= MAX_BUFFERED_EVENTS) {
      // Overloaded isolate: this request stores its own event rather than grow memory.
      return storeDirect(deps, [event], new Error('audit producer buffer full'));
    }
    this.#buffer.push({ event, bytes: JSON.stringify(event).length });
    // The request that becomes the leader gets its task back (see enqueueAudit).
    return this.#commit.kick(ctx, deps, now);
  }

  /** Nothing buffered, nothing pending, no leader (tests). */
  get idle(): boolean {
    return this.#commit.idle;
  }

  async #send(batch: SendBatch, deps: ProducerDeps, _ctx: WaitUntil): Promise<void> {
    const events = batch.messages.flat();
    let sendError: unknown;
    for (let attempt = 0; attempt <= SEND_BACKOFF_MS.length; attempt++) {
      if (attempt > 0) {
        const base = SEND_BACKOFF_MS[attempt - 1]!;
        await (deps.sleep ?? sleep)(Math.round(base * (0.5 + Math.random())));
        this.#commit.heartbeat();
      }
      try {
        await deps.queue.sendBatch(
          batch.messages.map((m) => ({ body: { pack: 1, events: m }, contentType: 'json' })),
        );
        settled(events);
        metrics.inc('logs_queue_messages_total', {}, batch.messages.length);
        return;
      } catch (err) {
        sendError = err;
      }
    }
    logLine('warn', {
      msg: 'audit queue send failed; storing directly',
      events: events.length,
      error: describeError(sendError),
    });
    await storeDirect(deps, events, sendError);
  }
}

/** Counts events whose fate is settled by this isolate (queued, stored or dropped). */
function settled(events: readonly AuditEvent[]): void {
  metrics.inc('logs_queued_total', {}, events.length);
  for (const e of events) metrics.backlog(Date.parse(e.ts), { sent: 1 });
}

/** Packs buffered events into sendBatch calls of size-bounded messages. */
export function pack(items: readonly Buffered[]): SendBatch[] {
  const batches: SendBatch[] = [];
  let batch: SendBatch = { messages: [] };
  let batchBytes = 0;
  let msg: AuditEvent[] = [];
  let msgBytes = 0;
  const envelope = 32; // {"pack":1,"events":[…]} plus separators
  const closeMessage = () => {
    if (msg.length === 0) return;
    if (
      batch.messages.length >= MAX_MESSAGES_PER_SEND ||
      (batch.messages.length > 0 && batchBytes + msgBytes > MAX_SEND_BYTES)
    ) {
      batches.push(batch);
      batch = { messages: [] };
      batchBytes = 0;
    }
    batch.messages.push(msg);
    batchBytes += msgBytes;
    msg = [];
    msgBytes = envelope;
  };
  msgBytes = envelope;
  for (const { event, bytes } of items) {
    if (
      msg.length >= MAX_EVENTS_PER_MESSAGE ||
      (msg.length > 0 && msgBytes + bytes + 1 > MAX_MESSAGE_BYTES)
    )
      closeMessage();
    msg.push(event);
    msgBytes += bytes + 1;
  }
  closeMessage();
  if (batch.messages.length > 0) batches.push(batch);
  return batches;
}

/**
 * The queue refused the events: write them where the consumer would (archive first, then D1,
 * both idempotent). Only what neither accepts is dropped — counted and reported.
 */
export async function storeDirect(
  deps: ProducerDeps,
  events: readonly AuditEvent[],
  sendError: unknown,
): Promise<void> {
  settled(events);
  let archived = false;
  if (deps.archive) {
    try {
      await deps.archive.put(events, 'fallback');
      archived = true;
    } catch (err) {
      deps.report(err, { component: 'audit_producer', stage: 'archive' });
    }
  }
  const rows = events.map(toRow);
  const now = Date.now();
  const lost: AuditEvent[] = [];
  let lastError: unknown;
  const write = async (from: number, to: number) => {
    try {
      const inserted = await insertAuditRows(deps.db, rows.slice(from, to), {
        via: 'fallback',
        now,
        archived,
      });
      metrics.inc('logs_written_total', {}, inserted.length);
      for (const ts of inserted) metrics.backlog(ts, { resolved: 1 });
      return true;
    } catch (err) {
      lastError = err;
      return false;
    }
  };
  if (!(await write(0, rows.length))) {
    // Isolate a poison row's message-sized chunk; D1 being down fails them all.
    for (let i = 0; i < rows.length; i += MAX_EVENTS_PER_MESSAGE) {
      if (!(await write(i, i + MAX_EVENTS_PER_MESSAGE)))
        lost.push(...events.slice(i, i + MAX_EVENTS_PER_MESSAGE));
    }
  }
  if (lost.length === 0) return;
  for (const e of lost) metrics.backlog(Date.parse(e.ts), { resolved: 1 });
  const ids = lost.map((e) => e.decision_id);
  if (archived) {
    // In the archive (the export has them), not in the D1 hot window: stored, but say so.
    metrics.inc('logs_written_total', {}, lost.length);
    deps.report(
      lastError,
      {
        component: 'audit_producer',
        stage: 'fallback_d1',
        events: String(lost.length),
        decision_id: ids[0],
      },
      { level: 'warning', extra: { decision_ids: ids.slice(0, MAX_REPORTED_IDS) } },
    );
    return;
  }
  metrics.inc('logs_dropped_total', {}, lost.length);
  deps.report(
    new AuditEventLostError('producer', lastError),
    {
      component: 'audit_producer',
      decision_id: ids[0],
      events: String(lost.length),
      send_error: describeError(sendError),
    },
    { extra: { decision_ids: ids.slice(0, MAX_REPORTED_IDS) } },
  );
}

const producers = new WeakMap<object, WeakMap<object, AuditProducer>>();

/** The isolate's producer for these bindings (tests hand in their own queue or database). */
export function producerFor(queue: object, db: object): AuditProducer {
  let byDb = producers.get(queue);
  if (!byDb) {
    byDb = new WeakMap();
    producers.set(queue, byDb);
  }
  let p = byDb.get(db);
  if (!p) {
    p = new AuditProducer();
    byDb.set(db, p);
  }
  return p;
}

/** The producer's dependencies from the Worker's bindings. */
export function producerDeps(env: Env, ctx: WaitUntil): ProducerDeps {
  return {
    queue: env.AUDIT_QUEUE,
    db: env.DB,
    archive: archiveFor(env),
    report: (err, tags, options) => captureException(env, ctx, err, tags, options),
    flush: (c) => flushMetrics(env, c),
  };
}

/** An event as the route builds it; the producer adds the input's keyed hash off the response path. */
export type UnhashedAuditEvent = Omit<AuditEvent, 'input_hmac' | 'input_hmac_key_id'>;

/**
 * Hands one decision's event to the audit logger from `ctx.waitUntil`: the input is hashed
 * there (HMAC under AUDIT_HASH_KEY, src/audit/input-hash.ts) and identifiers scrubbed, so the
 * response never waits for either, and nothing unscrubbed is buffered or queued. A usage event
 * checked no text: its `input` is `undefined` and it carries no hash.
 */
export function enqueueAudit(
  env: Env,
  ctx: WaitUntil,
  event: UnhashedAuditEvent,
  input: unknown,
): void {
  const producer = producerFor(env.AUDIT_QUEUE, env.DB);
  producer.expect();
  let arrived = false;
  // The request's trace waits for this task, so the queue send its leader makes (if this request
  // leads) is a span of this trace; other requests' events ride on that send.
  const untrack = currentTrace()?.track();
  ctx.waitUntil(
    nextTurn()
      .then(async () => {
        const config = await getConfig(env);
        if (!config.auditHashKey && config.environment === 'production') warnNoHashKeyOnce();
        // A usage event checked no text: it has no input to hash.
        const hash = input === undefined ? {} : await inputHashFields(config.auditHashKey, input);
        arrived = true;
        await producer.add(sanitizeEvent({ ...event, ...hash }), producerDeps(env, ctx), ctx);
        // The request's own flush may already have run; ship what was recorded here.
        flushMetrics(env, ctx);
      })
      .catch((err: unknown) => {
        if (!arrived) producer.cancel();
        throw err;
      })
      .finally(untrack),
  );
}

let warnedNoHashKey = false;
/** Without AUDIT_HASH_KEY events carry no input hash (never an unkeyed one); say so once. */
function warnNoHashKeyOnce(): void {
  if (warnedNoHashKey) return;
  warnedNoHashKey = true;
  logLine('warn', {
    msg: 'AUDIT_HASH_KEY is not set: audit events carry no input hash (wrangler secret put AUDIT_HASH_KEY)',
  });
}
