/**
 * RATE_LIMITER: one SQLite-backed Durable Object per API key id (`idFromName(key.id)`), deciding
 * that key's requests with GCRA (gcra.ts). Thin on purpose: load state, call the pure math,
 * persist what changed.
 *
 * Serialization. `check` is synchronous: it reads the state, decides and writes without a single
 * `await`, and JavaScript runs one task at a time in the object's isolate, so no other request can
 * observe or change the state between the read and the write — concurrent requests are decided
 * strictly one after another and can never over-admit. (Were the method to await storage, the
 * input gate would still hold other events back while a storage read is outstanding; the
 * synchronous SQLite API makes that argument unnecessary.) The output gate holds the RPC result
 * until the write is durable, so no client is told "allowed" for a state that a crash could lose;
 * if a write fails the runtime resets the object, discarding the in-memory copy with it.
 *
 * Persistence. One row: the TAT and the rule it is expressed under (see GcraState). That is the
 * whole algorithm state, so an eviction, a deploy or a restart does not refill a key's bucket. The
 * rule itself is not authoritative here — every request carries the key's current policy.
 * Only admitted requests write; a denial changes nothing, so a hammering key costs no writes.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import {
  assertRule,
  gcra,
  type GcraState,
  type RateLimitDecision,
  type RateLimitRule,
} from './gcra';

const SCHEMA = `CREATE TABLE IF NOT EXISTS gcra_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  tat_ms INTEGER NOT NULL,
  tat_rem INTEGER NOT NULL,
  limit_n INTEGER NOT NULL,
  window_s INTEGER NOT NULL
)`;

type StateRow = { tat_ms: number; tat_rem: number; limit_n: number; window_s: number };

export class RateLimiter extends DurableObject<Env> {
  #state: GcraState | null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Synchronous SQLite: no blockConcurrencyWhile needed, nothing can run before this returns.
    ctx.storage.sql.exec(SCHEMA);
    this.#state = this.#load();
  }

  /**
   * Decides one request under `rule` (the key's current policy). `now` (ms) is injectable for
   * tests; the gateway passes none, so the object's own clock is the only authority.
   */
  check(rule: RateLimitRule, now: number = Date.now()): RateLimitDecision {
    const { decision, state } = gcra(rule, this.#state, now);
    if (state && state !== this.#state) {
      this.ctx.storage.sql.exec(
        `INSERT INTO gcra_state (id, tat_ms, tat_rem, limit_n, window_s) VALUES (1, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET tat_ms = excluded.tat_ms, tat_rem = excluded.tat_rem,
           limit_n = excluded.limit_n, window_s = excluded.window_s`,
        state.tat_ms,
        state.tat_rem,
        state.limit,
        state.window_s,
      );
      this.#state = state;
    }
    return decision;
  }

  #load(): GcraState | null {
    const row = this.ctx.storage.sql
      .exec<StateRow>('SELECT * FROM gcra_state WHERE id = 1')
      .toArray()[0];
    if (!row) return null;
    const state: GcraState = {
      tat_ms: row.tat_ms,
      tat_rem: row.tat_rem,
      limit: row.limit_n,
      window_s: row.window_s,
    };
    // A row this code cannot read is an error, not an empty bucket: resetting would over-admit.
    assertRule(state);
    if (!Number.isSafeInteger(state.tat_ms) || state.tat_rem < 0 || state.tat_rem >= state.limit) {
      throw new Error('rate limiter: stored state is invalid');
    }
    return state;
  }
}
