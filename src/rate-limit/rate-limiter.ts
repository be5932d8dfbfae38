/**
 * RATE_LIMITER: one SQLite-backed Durable Object per API key id (`idFromName(key.id)`), deciding
 * that key's requests with GCRA and handing out leases (bucket.ts). Thin on purpose: load state,
 * call the pure math, persist what changed.
 *
 * Serialization. Every method is synchronous: it reads the state, decides and writes without a
 * single `await`, and JavaScript runs one task at a time in the object's isolate, so no other
 * request can observe or change the state between the read and the write — concurrent requests
 * are decided strictly one after another and can never over-admit. The output gate holds each RPC
 * result until its writes are durable, so no isolate is told "allowed" (or handed a lease) for a
 * state that a crash could lose; if a write fails the runtime resets the object, discarding the
 * in-memory copy with it.
 *
 * Tokens. A key with a `token_limit` has a second bucket here (token-bucket.ts, its own TAT in
 * token_state), charged per request with its counted tokens by `chargeTokens` — exactly, without
 * leases, in the same serialised way. Reported output tokens are charged by `chargeUsage`, once
 * per report id (usage_charges remembers the ids it charged), even past the quota (overdraft).
 *
 * Persistence. The TAT with the rule it is expressed under (gcra_state), the live leases (leases)
 * — without them a restart would forget the floor they impose and over-admit — and what the
 * object knows about the key (key_state: newest record version seen, revoked, that version's
 * rule). Only grants, returns and key updates write; a denial changes nothing.
 *
 * The key's record. Isolates cache key records (KEY_CACHE_TTL_S) and send the cached record's
 * `updated_at` as `version` with every call. The admin routes tell the object about a change at
 * once (`sync`). An isolate whose version is older is told `stale` and decided under the newest
 * rule; a revoked key is refused. So a revocation or policy change reaches every isolate at its
 * next call to the object — within one lease lifetime — rather than after the key cache's TTL.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import { acquire, peek, release, type BucketState, type Lease } from './bucket';
import { assertRule, type GcraState, type RateLimitDecision, type RateLimitRule } from './gcra';
import type { LeaseGrant, LeaseReturn } from './lease-pool';
import { LEASE_RETURN_GRACE_MS, MAX_LEASE_MS, maxOutstanding } from './limits';
import {
  assertTokenRule,
  chargeTokens,
  chargeUsage,
  type TokenDecision,
  type TokenRule,
  type UsageCharge,
} from './token-bucket';

export { maxOutstanding } from './limits';

/** Most returns accepted in one call. */
const MAX_RETURNS = 64;

/** Longest a usage charge's id is remembered (the longest report horizon, 30 days, + 2 days). */
export const MAX_USAGE_MEMORY_MS = 32 * 86_400_000;

export interface UsageChargeResult {
  /** false: this id was charged before (a retry or a duplicate); nothing was charged now. */
  charged: boolean;
  /** The quota after the call. */
  quota: UsageCharge;
}

export interface AcquireRequest {
  rule: RateLimitRule;
  /** 1: admit the calling request now; 0: a lease only. */
  take: 0 | 1;
  /** Further admissions wanted as a lease. */
  lease: number;
  lease_ms: number;
  /** The caller's cached key record `updated_at`; null when unknown. */
  version: string | null;
  /** Unspent admissions of this isolate's leases, given back first. */
  returns?: LeaseReturn[];
}

export interface AcquireResult {
  /** The key is revoked: nothing was decided. */
  revoked: boolean;
  /** The caller's key record is older than one the object has seen; evict it. */
  stale: boolean;
  /** The rule decided under (the newest the object knows when `stale`). */
  rule: RateLimitRule;
  decision: RateLimitDecision;
  lease: LeaseGrant | null;
}

/** One quota's state in the admin usage view, in its own units (requests or tokens). */
export interface QuotaUsage {
  limit: number;
  window_s: number;
  /** Units counted against the quota now: `limit − remaining`. */
  used: number;
  /** Units that could be admitted (charged) right now. */
  remaining: number;
  /** Seconds until the quota is fully restored if nothing more is admitted. */
  reset_s: number;
}

export interface KeyUsage {
  /** `leased`: admissions outstanding in isolates' leases, included in `used`. */
  requests: QuotaUsage & { leased: number };
  /**
   * Null when the key's policy has no `token_limit`. `overdraft`: reported output tokens owed
   * beyond the quota (`chargeUsage`), included in `used`.
   */
  tokens: (QuotaUsage & { overdraft: number }) | null;
}

export interface KeyUpdate {
  version: string;
  rule: RateLimitRule;
  revoked: boolean;
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS gcra_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    tat_ms INTEGER NOT NULL,
    tat_rem INTEGER NOT NULL,
    limit_n INTEGER NOT NULL,
    window_s INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS token_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    tat_ms INTEGER NOT NULL,
    tat_rem INTEGER NOT NULL,
    limit_n INTEGER NOT NULL,
    window_s INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS usage_charges (
    id TEXT PRIMARY KEY,
    tokens INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
  ) WITHOUT ROWID`,
  `CREATE INDEX IF NOT EXISTS usage_charges_expiry ON usage_charges (expires_ms)`,
  `CREATE TABLE IF NOT EXISTS leases (
    id TEXT PRIMARY KEY,
    tokens INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
  ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS key_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version TEXT NOT NULL,
    revoked INTEGER NOT NULL,
    limit_n INTEGER NOT NULL,
    window_s INTEGER NOT NULL
  )`,
];

type StateRow = { tat_ms: number; tat_rem: number; limit_n: number; window_s: number };
type LeaseRow = { id: string; tokens: number; expires_ms: number };
type KeyRow = { version: string; revoked: number; limit_n: number; window_s: number };

interface KeyState {
  version: string;
  revoked: boolean;
  rule: RateLimitRule;
}

export class RateLimiter extends DurableObject<Env> {
  #bucket: BucketState;
  #tokens: GcraState | null;
  #key: KeyState | null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Synchronous SQLite: no blockConcurrencyWhile needed, nothing can run before this returns.
    for (const ddl of SCHEMA) ctx.storage.sql.exec(ddl);
    this.#bucket = { gcra: this.#loadGcra(), leases: this.#loadLeases() };
    this.#tokens = this.#loadTokens();
    this.#key = this.#loadKey();
  }

  /**
   * Charges `tokens` to the key's token quota under `rule` (the caller's current policy) if they
   * fit; a refusal charges nothing. Synchronous like `acquire`, so charges never interleave.
   */
  chargeTokens(rule: TokenRule, tokens: number, now: number = Date.now()): TokenDecision {
    assertTokenRule(rule);
    if (!Number.isSafeInteger(tokens) || tokens < 0) {
      throw new RangeError('tokens must be a non-negative integer');
    }
    const out = chargeTokens(rule, this.#tokens, tokens, now);
    this.#saveTokens(out.state);
    return out.decision;
  }

  #saveTokens(state: GcraState | null): void {
    if (state && state !== this.#tokens) {
      const g = state;
      this.ctx.storage.sql.exec(
        `INSERT INTO token_state (id, tat_ms, tat_rem, limit_n, window_s) VALUES (1, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET tat_ms = excluded.tat_ms, tat_rem = excluded.tat_rem,
           limit_n = excluded.limit_n, window_s = excluded.window_s`,
        g.tat_ms,
        g.tat_rem,
        g.limit,
        g.window_s,
      );
      this.#tokens = g;
    }
  }

  /**
   * Charges reported output tokens once per `id` (the decision they were reported for), even past
   * the quota (token-bucket.ts `chargeUsage`). The id is remembered for `memoryMs`, so a retry or
   * a concurrent duplicate within that time charges nothing. Synchronous: the check for the id,
   * the charge and the id's row are one atomic write, so two calls with one id cannot both charge.
   */
  chargeUsage(
    rule: TokenRule,
    id: string,
    tokens: number,
    memoryMs: number,
    now: number = Date.now(),
  ): UsageChargeResult {
    assertTokenRule(rule);
    if (typeof id !== 'string' || id.length < 1 || id.length > 64) {
      throw new TypeError('id must be a string of 1..64 characters');
    }
    if (!Number.isSafeInteger(tokens) || tokens < 0) {
      throw new RangeError('tokens must be a non-negative integer');
    }
    if (!Number.isSafeInteger(memoryMs) || memoryMs < 1 || memoryMs > MAX_USAGE_MEMORY_MS) {
      throw new RangeError(`memoryMs must be an integer 1..${MAX_USAGE_MEMORY_MS}`);
    }
    const sql = this.ctx.storage.sql;
    sql.exec('DELETE FROM usage_charges WHERE expires_ms < ?', now);
    const seen = sql.exec('SELECT 1 FROM usage_charges WHERE id = ?', id).toArray().length > 0;
    const out = chargeUsage(rule, this.#tokens, seen ? 0 : tokens, now);
    if (seen) return { charged: false, quota: out.charge };
    sql.exec(
      'INSERT INTO usage_charges (id, tokens, expires_ms) VALUES (?, ?, ?)',
      id,
      tokens,
      now + memoryMs,
    );
    this.#saveTokens(out.state);
    return { charged: true, quota: out.charge };
  }

  /**
   * Decides the calling request (`take: 1`) and/or grants a lease of further admissions, after
   * taking back `returns`. `now` (ms) is injectable for tests; the gateway passes none, so the
   * object's own clock is the only authority.
   */
  acquire(req: AcquireRequest, now: number = Date.now()): AcquireResult {
    assertRequest(req);
    const known = this.#key;
    if (known?.revoked) {
      return {
        revoked: true,
        stale: true,
        rule: known.rule,
        decision: refused(known.rule),
        lease: null,
      };
    }
    const stale = known !== null && req.version !== null && req.version < known.version;
    const rule = stale ? known.rule : req.rule;
    let key = known;
    if (!stale && req.version !== null && (!known || req.version > known.version)) {
      key = { version: req.version, revoked: false, rule: req.rule };
    }

    let bucket = this.#bucket;
    for (const r of req.returns ?? []) bucket = release(bucket, rule, r.id, r.unused, now).state;
    const out = acquire(
      {
        rule,
        take: req.take,
        // No lease for a stale caller: it drops what it holds and re-reads the key first.
        lease: req.lease_ms > 0 && !stale ? req.lease : 0,
        // The isolate spends for at most lease_ms from before its call was sent; the object holds
        // the lease a grace period longer so late returns still count (see limits.ts).
        leaseMs: req.lease_ms + LEASE_RETURN_GRACE_MS,
        maxOutstanding: maxOutstanding(rule),
        leaseId: crypto.randomUUID(),
      },
      bucket,
      now,
    );
    this.#save(out.state, key);
    return {
      revoked: false,
      stale,
      rule,
      decision: out.decision,
      lease: out.lease
        ? { id: out.lease.id, tokens: out.lease.tokens, ttl_ms: req.lease_ms }
        : null,
    };
  }

  /** Closes live leases, taking back their unspent admissions; returns how many went back. */
  release(rule: RateLimitRule, returns: LeaseReturn[], now: number = Date.now()): number {
    assertRule(rule);
    assertReturns(returns);
    let bucket = this.#bucket;
    let n = 0;
    for (const r of returns) {
      const out = release(bucket, rule, r.id, r.unused, now);
      bucket = out.state;
      n += out.returned;
    }
    this.#save(bucket, this.#key);
    return n;
  }

  /**
   * The admin routes report a changed or revoked key. Keeps the newest version; a revocation is
   * permanent. Idempotent.
   */
  sync(update: KeyUpdate): void {
    assertRule(update.rule);
    if (typeof update.version !== 'string' || update.version.length > 64) {
      throw new TypeError('version must be a string of at most 64 characters');
    }
    const known = this.#key;
    const revoked = update.revoked || known?.revoked === true;
    const newer = !known || update.version >= known.version;
    const next: KeyState = newer
      ? { version: update.version, revoked, rule: update.rule }
      : { ...known, revoked };
    this.#save(this.#bucket, next);
  }

  /**
   * Both quotas' usage under the key's current rules, read-only: nothing is admitted, charged,
   * granted or written (GET /admin/keys/{id}/usage). Synchronous like every method here, so it
   * sees the state between two decisions, never in the middle of one.
   */
  usage(rule: RateLimitRule, tokenRule: TokenRule | null, now: number = Date.now()): KeyUsage {
    assertRule(rule);
    const b = peek(this.#bucket, rule, now);
    let tokens: KeyUsage['tokens'] = null;
    if (tokenRule) {
      // A usage charge of 0 changes nothing and reports the overdraft too (token-bucket.ts).
      const q = chargeUsage(tokenRule, this.#tokens, 0, now).charge;
      tokens = {
        limit: q.limit,
        window_s: tokenRule.window_s,
        used: q.limit - q.remaining + q.overdraft,
        remaining: q.remaining,
        overdraft: q.overdraft,
        reset_s: q.reset_s,
      };
    }
    return {
      requests: {
        limit: rule.limit,
        window_s: rule.window_s,
        used: rule.limit - b.remaining,
        remaining: b.remaining,
        leased: b.leased,
        reset_s: b.reset_s,
      },
      tokens,
    };
  }

  /** One request, no lease, no key checks (the pre-lease API; kept for tests and tools). */
  check(rule: RateLimitRule, now: number = Date.now()): RateLimitDecision {
    return this.acquire({ rule, take: 1, lease: 0, lease_ms: 0, version: null }, now).decision;
  }

  #save(next: BucketState, key: KeyState | null): void {
    const sql = this.ctx.storage.sql;
    const prev = this.#bucket;
    if (next !== prev) {
      if (next.gcra && next.gcra !== prev.gcra) {
        const g: GcraState = next.gcra;
        sql.exec(
          `INSERT INTO gcra_state (id, tat_ms, tat_rem, limit_n, window_s) VALUES (1, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET tat_ms = excluded.tat_ms, tat_rem = excluded.tat_rem,
             limit_n = excluded.limit_n, window_s = excluded.window_s`,
          g.tat_ms,
          g.tat_rem,
          g.limit,
          g.window_s,
        );
      }
      // Leases are only ever added (granted) or removed (returned, expired): never changed.
      const keep = new Set(next.leases.map((l) => l.id));
      const had = new Set(prev.leases.map((l) => l.id));
      for (const l of prev.leases) {
        if (!keep.has(l.id)) sql.exec('DELETE FROM leases WHERE id = ?', l.id);
      }
      for (const l of next.leases) {
        if (had.has(l.id)) continue;
        sql.exec(
          'INSERT INTO leases (id, tokens, expires_ms) VALUES (?, ?, ?)',
          l.id,
          l.tokens,
          l.expires_ms,
        );
      }
      this.#bucket = next;
    }
    const k = this.#key;
    if (
      key &&
      (!k || k.version !== key.version || k.revoked !== key.revoked || !sameRule(k.rule, key.rule))
    ) {
      sql.exec(
        `INSERT INTO key_state (id, version, revoked, limit_n, window_s) VALUES (1, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, revoked = excluded.revoked,
           limit_n = excluded.limit_n, window_s = excluded.window_s`,
        key.version,
        key.revoked ? 1 : 0,
        key.rule.limit,
        key.rule.window_s,
      );
      this.#key = key;
    }
  }

  #loadGcra(): GcraState | null {
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

  #loadTokens(): GcraState | null {
    const row = this.ctx.storage.sql
      .exec<StateRow>('SELECT * FROM token_state WHERE id = 1')
      .toArray()[0];
    if (!row) return null;
    // As for gcra_state: a row this code cannot read must not become an empty (full) quota.
    assertTokenRule({ tokens: row.limit_n, window_s: row.window_s });
    if (!Number.isSafeInteger(row.tat_ms) || row.tat_rem < 0 || row.tat_rem >= row.limit_n) {
      throw new Error('rate limiter: stored token state is invalid');
    }
    return { tat_ms: row.tat_ms, tat_rem: row.tat_rem, limit: row.limit_n, window_s: row.window_s };
  }

  #loadLeases(): Lease[] {
    const rows = this.ctx.storage.sql
      .exec<LeaseRow>('SELECT id, tokens, expires_ms FROM leases ORDER BY expires_ms')
      .toArray();
    for (const r of rows) {
      if (!Number.isSafeInteger(r.tokens) || r.tokens < 1 || !Number.isSafeInteger(r.expires_ms)) {
        throw new Error('rate limiter: stored lease is invalid');
      }
    }
    return rows.map((r) => ({ id: r.id, tokens: r.tokens, expires_ms: r.expires_ms }));
  }

  #loadKey(): KeyState | null {
    const row = this.ctx.storage.sql
      .exec<KeyRow>('SELECT version, revoked, limit_n, window_s FROM key_state WHERE id = 1')
      .toArray()[0];
    if (!row) return null;
    const rule = { limit: row.limit_n, window_s: row.window_s };
    assertRule(rule);
    return { version: row.version, revoked: row.revoked === 1, rule };
  }
}

function refused(rule: RateLimitRule): RateLimitDecision {
  return { allowed: false, limit: rule.limit, remaining: 0, reset_s: 1, retry_after_s: 1 };
}

function sameRule(a: RateLimitRule, b: RateLimitRule): boolean {
  return a.limit === b.limit && a.window_s === b.window_s;
}

/** The object is an RPC boundary: check what arrives as strictly as the policy schema would. */
function assertRequest(req: AcquireRequest): void {
  assertRule(req.rule);
  const int = (v: unknown, min: number, max: number) =>
    Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
  if (req.take !== 0 && req.take !== 1) throw new RangeError('take must be 0 or 1');
  if (!int(req.lease, 0, 1_000_000)) throw new RangeError('lease must be an integer 0..1000000');
  if (!int(req.lease_ms, 0, MAX_LEASE_MS)) {
    throw new RangeError(`lease_ms must be an integer 0..${MAX_LEASE_MS}`);
  }
  if (req.version !== null && (typeof req.version !== 'string' || req.version.length > 64)) {
    throw new TypeError('version must be null or a string of at most 64 characters');
  }
  if (req.returns !== undefined) assertReturns(req.returns);
}

function assertReturns(returns: LeaseReturn[]): void {
  if (!Array.isArray(returns) || returns.length > MAX_RETURNS) {
    throw new RangeError(`returns must be an array of at most ${MAX_RETURNS}`);
  }
  for (const r of returns) {
    if (typeof r?.id !== 'string' || r.id.length > 64 || !Number.isSafeInteger(r.unused)) {
      throw new TypeError('each return needs a string id and an integer unused');
    }
  }
}
