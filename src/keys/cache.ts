/**
 * Per-isolate cache of API-key lookups, keyed by the key's SHA-256. Bounded (LRU by insertion
 * order of a Map) with a short TTL, so the hot path normally does no D1 read and a revocation
 * made in another isolate takes effect within the TTL. Unknown keys are cached briefly too, so a
 * client retrying a wrong key cannot turn every request into a D1 read.
 */
import type { ApiKeyRecord } from './store';

interface Entry {
  record: ApiKeyRecord | null;
  expires: number;
}

export const NEGATIVE_TTL_MS = 5_000;

export class KeyCache {
  readonly #entries = new Map<string, Entry>();
  #epoch = 0;

  /**
   * Changes whenever a key is evicted by an admin change. A lookup that read D1 before an
   * eviction must not cache what it read (it may be the pre-revocation row): read the epoch
   * before the D1 query and pass it to `set`.
   */
  get epoch(): number {
    return this.#epoch;
  }

  constructor(readonly maxEntries = 1000) {}

  /** `undefined` = not cached; `null` = cached as unknown. */
  get(hash: string, now: number): ApiKeyRecord | null | undefined {
    const e = this.#entries.get(hash);
    if (!e) return undefined;
    if (e.expires <= now) {
      this.#entries.delete(hash);
      return undefined;
    }
    // Refresh recency without extending the TTL.
    this.#entries.delete(hash);
    this.#entries.set(hash, e);
    return e.record;
  }

  set(
    hash: string,
    record: ApiKeyRecord | null,
    ttlMs: number,
    now: number,
    epoch = this.#epoch,
  ): void {
    if (ttlMs <= 0 || epoch !== this.#epoch) return;
    this.#entries.delete(hash);
    this.#entries.set(hash, {
      record,
      expires: now + (record ? ttlMs : Math.min(ttlMs, NEGATIVE_TTL_MS)),
    });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  /** Drops every entry for key `id` (used on revoke and update in this isolate). */
  evictId(id: string): void {
    this.#epoch++;
    for (const [hash, e] of this.#entries) if (e.record?.id === id) this.#entries.delete(hash);
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** The isolate's cache. Module scope is per isolate in Workers. */
export const keyCache = new KeyCache();
