/**
 * RATE_LIMITER: one Durable Object per API key id. A Durable Object handles one event at a time
 * and this method does no I/O between reading and writing the state, so concurrent requests are
 * serialized and never over-admit. The TAT is persisted in the object's SQLite-backed KV storage
 * (synchronous API), so an eviction does not reset a client's quota.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import { gcra, type RateLimitDecision, type RateLimitRule } from './gcra';

const TAT_KEY = 'tat';

export class RateLimiter extends DurableObject<Env> {
  #tat: number | undefined;

  /** Decides one request under `rule`. `now` is injectable for tests; production passes none. */
  check(rule: RateLimitRule, now: number = Date.now()): RateLimitDecision {
    const stored = this.#tat ?? this.ctx.storage.kv.get<number>(TAT_KEY) ?? 0;
    const { decision, tat } = gcra(rule, stored, now);
    if (tat !== stored) {
      this.ctx.storage.kv.put(TAT_KEY, tat);
    }
    this.#tat = tat;
    return decision;
  }
}
