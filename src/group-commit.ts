/**
 * Group commit: many requests record into an in-memory buffer, and at most one *leader* per
 * buffer ships it from `ctx.waitUntil`, so N concurrent requests cost one write instead of N.
 * The metrics flush (src/metrics/flush.ts) and the audit producer (src/audit/producer.ts) both
 * run on this one primitive; each supplies how to drain its buffer into batches and how to send
 * one batch.
 *
 * The request that finds no live leader becomes it and, inside its own `waitUntil`, lingers a
 * moment (so concurrent records coalesce), drains, sends, and loops while others keep recording;
 * every other request only records and returns. Nobody ever awaits another request's I/O: all a
 * leader awaits is created inside its own `waitUntil` task, and non-leaders hand data over
 * through the synchronous buffer only (Workers forbid awaiting I/O objects across requests).
 *
 * A drained batch is *pending* until its send succeeds: a failed send keeps it (first in line,
 * with the same identity, so the receiver can deduplicate a retry), and if a leader dies
 * mid-send (its request cancelled) the batch is still here — a leader silent for `staleMs` is
 * presumed dead, and the next request's leader sends the batch again.
 */
import { sleep } from './timing';
import type { WaitUntil } from './types';

/** A batch held until its send succeeds (or the owner gives up on it). */
export interface Pending<B> {
  readonly batch: B;
  readonly createdAt: number;
  /** Sends tried so far, this one included when `send`/`failed` see it. */
  attempts: number;
}

export interface GroupCommitSpec<B, R> {
  /** How long a leader lingers before draining, so concurrent records share one send. */
  lingerMs: number;
  /**
   * Whether to linger this round (default: always). A buffer that is not filling up concurrently
   * (one record, and the last drain took one too) gains nothing from waiting.
   */
  shouldLinger?(): boolean;
  /** Most sends per leader before it hands over (bounds one `waitUntil`'s duration). */
  maxRounds: number;
  /** A leader silent this long is presumed dead; another request may lead. */
  staleMs: number;
  /** Pending batches kept; past this the oldest is handed to `overflow` and forgotten. */
  maxPending: number;
  /** Whether anything is buffered that `drain` would take. Synchronous. */
  buffered(): boolean;
  /** Takes the whole buffer, cut into batches. Synchronous (see `lead`). */
  drain(run: R): B[];
  /** Ships one batch; a throw keeps it pending for a later leader. */
  send(p: Pending<B>, run: R, ctx: WaitUntil): Promise<void>;
  /**
   * After a failed send: how long no new leader may start, and whether to give the batch up
   * (the owner accounts for it). Called before the leader steps down.
   */
  failed(p: Pending<B>, err: unknown, run: R, ctx: WaitUntil): { backoffMs: number; drop: boolean };
  /** A pending batch pushed out by `maxPending`. */
  overflow(p: Pending<B>): void;
}

export class GroupCommit<B, R> {
  /** Generation of the current leader; 0 = none. */
  #leader = 0;
  #generation = 0;
  /** When the current leader last made progress. */
  #beat = 0;
  /** After a failed send, no new leader starts before this time. */
  #backoffUntil = 0;
  readonly #pending: Pending<B>[] = [];

  constructor(private readonly spec: GroupCommitSpec<B, R>) {}

  /**
   * Call after recording. Starts a leader in `ctx.waitUntil` unless one is alive, there is
   * nothing to send, or the last failure's backoff has not passed. Never awaits anything.
   * Returns the leader's task when this call started one (it belongs to the caller's request,
   * which may wait for it, e.g. to keep its trace open for the send's span), else undefined.
   */
  kick(ctx: WaitUntil, run: R, now = Date.now()): Promise<void> | undefined {
    if (!this.spec.buffered() && this.#pending.length === 0) return undefined;
    if (this.#leader !== 0 && now - this.#beat < this.spec.staleMs) return undefined;
    if (now < this.#backoffUntil) return undefined;
    const me = ++this.#generation;
    this.#leader = me;
    this.#beat = now;
    const task = this.#lead(ctx, run, me);
    ctx.waitUntil(task);
    return task;
  }

  /** Nothing buffered, nothing pending, no leader running. */
  get idle(): boolean {
    return !this.spec.buffered() && this.#pending.length === 0 && this.#leader === 0;
  }

  /** Batches drained but not yet sent (for tests and diagnostics). */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /** The leader still in charge should call this during long sends so it is not presumed dead. */
  heartbeat(): void {
    this.#beat = Date.now();
  }

  async #lead(ctx: WaitUntil, run: R, me: number): Promise<void> {
    try {
      for (let round = 0; round < this.spec.maxRounds && this.#leader === me; round++) {
        let p = this.#pending[0];
        if (!p) {
          // Nothing left after a send: hand over now rather than linger for nothing.
          if (round > 0 && !this.spec.buffered()) return;
          if (this.spec.shouldLinger?.() ?? true) {
            await sleep(this.spec.lingerMs);
            this.#beat = Date.now();
          }
          const batches = this.spec.drain(run);
          if (batches.length === 0) return;
          const createdAt = Date.now();
          for (const batch of batches) this.#enqueue({ batch, createdAt, attempts: 0 });
          p = this.#pending[0]!;
        }
        try {
          p.attempts++;
          await this.spec.send(p, run, ctx);
          this.#remove(p);
          this.#beat = Date.now();
          this.#backoffUntil = 0;
        } catch (err) {
          const { backoffMs, drop } = this.spec.failed(p, err, run, ctx);
          this.#backoffUntil = Date.now() + backoffMs;
          if (drop) this.#remove(p);
          return;
        }
      }
      // Round limit reached with the buffer possibly refilled meanwhile: hand over to a fresh
      // leader in this same invocation, so nothing recorded during the last send is stranded.
      if (this.#leader === me) {
        this.#leader = 0;
        this.kick(ctx, run);
      }
    } finally {
      // A `return` above runs this in the same synchronous step as the leader's last look at
      // the buffer, so no request can record, see a leader and skip kicking in between (which
      // would strand its record). A leader presumed dead must not unseat its successor.
      if (this.#leader === me) this.#leader = 0;
    }
  }

  #enqueue(p: Pending<B>): void {
    this.#pending.push(p);
    while (this.#pending.length > this.spec.maxPending) {
      const out = this.#pending.shift();
      if (out) this.spec.overflow(out);
    }
  }

  #remove(p: Pending<B>): void {
    const i = this.#pending.indexOf(p);
    if (i >= 0) this.#pending.splice(i, 1);
  }
}
