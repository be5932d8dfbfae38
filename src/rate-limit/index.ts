/**
 * The rate-limit stage as the check route sees it. In order: spend an admission this isolate
 * holds in a lease (no I/O); answer from the deny cache when the key is known to be over quota;
 * otherwise ask the key's RATE_LIMITER object — for this request and, when the key is busy in
 * this isolate, a lease of further admissions — and apply the configured failure policy when the
 * object cannot answer (error, overload or timeout).
 *
 * Off the response path (`ctx.waitUntil`): topping up a busy key's lease before it runs dry, and
 * giving back what a lease still holds shortly before it expires. That upkeep serves the isolate,
 * not the request that happened to schedule it, so it runs outside every request's trace: a
 * request's trace shows a `RateLimiter.*` client span exactly for each object call its response
 * waited for, a `rate_limit.lease_wait` span while it waited for another request's lease call,
 * and `vakt.rate_limit.source` (lease, object, cache, failure, revoked) on the request's span.
 */
import type { RateLimitFailureMode } from '../config';
import { keyCache } from '../keys/cache';
import { metrics } from '../metrics/recorder';
import { currentTrace, runOutsideTrace } from '../observability/request-trace';
import { sleep } from '../timing';
import { DenyCache } from './deny-cache';
import { DEFAULT_LEASE_MS } from './limits';
import type { RateLimitDecision, RateLimitRule } from './gcra';
import {
  beginLeaseCall,
  closeForReturn,
  held,
  install,
  leaseCallPending,
  LeasePool,
  spend,
  takeReturns,
  waitForLease,
  want,
  type KeyLeases,
  type LeaseReturn,
  type LocalLease,
} from './lease-pool';
import type {
  AcquireRequest,
  AcquireResult,
  KeyUpdate,
  KeyUsage,
  RateLimiter,
  UsageChargeResult,
} from './rate-limiter';
import type { TokenDecision, TokenRule } from './token-bucket';

export type { RateLimitDecision, RateLimitRule } from './gcra';
export type { TokenDecision, TokenRule } from './token-bucket';
export type { KeyUsage, QuotaUsage } from './rate-limiter';
export { rateLimitHeaders } from './headers';

/** What the stage needs of one key's object. `DurableObjectStub<RateLimiter>` satisfies it. */
export interface RateLimiterStub {
  acquire(req: AcquireRequest): Promise<AcquireResult>;
  release(rule: RateLimitRule, returns: LeaseReturn[]): Promise<number>;
}

/**
 * What the stage needs from the RATE_LIMITER binding. `DurableObjectNamespace<RateLimiter>`
 * satisfies it; tests pass a namespace whose objects fail, without touching production paths.
 */
export interface RateLimiterNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): RateLimiterStub;
}

/** The key as the limiter sees it: its id and its cached record's version (`updated_at`). */
export interface RateLimitKey {
  id: string;
  version: string | null;
}

export type RateLimitOutcome = { decision: RateLimitDecision; rule: RateLimitRule } & (
  | /** Spent from a lease this isolate holds, without calling the object. */ { source: 'lease' }
  | /** The key's object decided (`stale`: this isolate's key record was out of date). */ {
      source: 'object';
      stale: boolean;
    }
  /** Denied from this isolate's deny cache, without calling the object. */
  | { source: 'cache' }
  /** The object failed; `decision` is what the failure policy chose. */
  | { source: 'failure'; mode: RateLimitFailureMode; error: unknown }
  /** The object knows the key is revoked. */
  | { source: 'revoked' }
);

export type WaitUntil = Pick<ExecutionContext, 'waitUntil'>;

export interface CheckRateLimitOptions {
  /** Give up on the object after this long and apply the failure policy. */
  timeoutMs?: number;
  denyCache?: DenyCache;
  leases?: LeasePool;
  /** Lease lifetime on the object's clock; 0 turns leases off (one RPC per request). */
  leaseMs?: number;
  /** For lease top-ups and returns in the background; without it leases are only taken inline. */
  ctx?: WaitUntil;
  /** The isolate's clock, for the deny cache and leases (the object keeps its own time). */
  now?: () => number;
  /** Called when the object says this isolate's key record is stale or revoked. */
  onKeyChanged?: (keyId: string) => void;
}

export const RATE_LIMIT_TIMEOUT_MS = 2_000;

/** The isolate's deny cache and leases. Module scope is per isolate in Workers. */
export const denyCache = new DenyCache();
export const leasePool = new LeasePool();

/** Thrown (and reported) when the object does not answer within the timeout. */
export class RateLimiterTimeoutError extends Error {
  override name = 'RateLimiterTimeoutError';
}

interface Resolved {
  ns: RateLimiterNamespace;
  key: RateLimitKey;
  rule: RateLimitRule;
  timeoutMs: number;
  leaseMs: number;
  pool: LeasePool;
  now: () => number;
  ctx: WaitUntil | undefined;
  onKeyChanged: (keyId: string) => void;
}

export async function checkRateLimit(
  namespace: RateLimiterNamespace,
  key: RateLimitKey,
  rule: RateLimitRule,
  failureMode: RateLimitFailureMode,
  options: CheckRateLimitOptions = {},
): Promise<RateLimitOutcome> {
  const o: Resolved = {
    ns: namespace,
    key,
    rule,
    timeoutMs: options.timeoutMs ?? RATE_LIMIT_TIMEOUT_MS,
    leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
    pool: options.leases ?? leasePool,
    now: options.now ?? Date.now,
    ctx: options.ctx,
    onKeyChanged: options.onKeyChanged ?? ((id) => keyCache.evictId(id)),
  };
  const cache = options.denyCache ?? denyCache;
  const t = o.now();
  const entry = o.pool.entry(key.id, key.version, rule, t);
  let now = t;
  let waited = false;
  for (;;) {
    const local = spend(entry, now);
    if (local) {
      topUp(o, entry, now);
      return { source: 'lease', decision: local, rule };
    }
    const cached = cache.get(key.id, rule, now);
    if (cached) return { source: 'cache', decision: cached, rule };
    // Another request of this isolate is already asking for a lease: wait for its answer rather
    // than add one more call to the object (bounded by that call's own timeout).
    if (waited || !leaseCallPending(entry, now)) break;
    const start = performance.now();
    await waitForLease(entry, o.now);
    currentTrace()?.span('rate_limit.lease_wait', 'internal', start, performance.now());
    waited = true;
    now = o.now();
  }

  const wanted = o.leaseMs > 0 ? want(entry, now, o.leaseMs) - 1 : 0;
  const req: AcquireRequest = {
    rule,
    take: 1,
    lease: wanted,
    lease_ms: o.leaseMs,
    version: key.version,
    returns: takeReturns(entry),
  };
  const end = wanted > 0 ? beginLeaseCall(entry, now, o.timeoutMs) : () => {};
  let res: AcquireResult;
  const sentAt = o.now();
  try {
    try {
      res = await call(o, (stub) => stub.acquire(req), 'acquire');
    } catch (error) {
      // Cloudflare marks transient failures (a deploy or a moved object) `retryable`; one retry
      // on a fresh stub is the documented remedy. Never retry an overloaded object: that is the
      // load we must not add. A retried request may be counted twice — the safe direction — and
      // a lease granted to a lost reply expires unspent; returns are idempotent.
      if (!isRetryable(error)) throw error;
      res = await call(o, (stub) => stub.acquire(req), 'acquire');
    }
  } catch (error) {
    end();
    return {
      source: 'failure',
      decision: failureDecision(rule, failureMode),
      rule,
      mode: failureMode,
      error,
    };
  }
  now = o.now();
  try {
    if (res.revoked || res.stale) keyChanged(o, now);
    if (res.revoked) return { source: 'revoked', decision: res.decision, rule: res.rule };
    if (res.stale) return { source: 'object', decision: res.decision, rule: res.rule, stale: true };

    const lease = install(entry, res, sentAt, now);
    if (lease) scheduleReturn(o, entry, lease, now);
    else returnLate(o, entry);
    if (!res.decision.allowed) {
      // Another request of this isolate may have been handed a lease while this one waited.
      const late = spend(entry, now);
      if (late) return { source: 'lease', decision: late, rule };
      cache.record(key.id, rule, res.decision, now);
      return { source: 'object', decision: res.decision, rule, stale: false };
    }
    // The bucket's count excludes leases; this isolate's unspent admissions are still its to use.
    const decision = { ...res.decision, remaining: res.decision.remaining + held(entry, now) };
    return { source: 'object', decision, rule, stale: false };
  } finally {
    // After the lease is installed (or the denial cached): waiters find it on their next look.
    end();
  }
}

/**
 * fail_open admits but claims no spare quota (r=0, t=1), nudging well-behaved clients to slow
 * down while nothing is enforced; fail_closed refuses with a one-second Retry-After.
 */
export function failureDecision(
  rule: RateLimitRule,
  mode: RateLimitFailureMode,
): RateLimitDecision {
  const open = mode === 'fail_open';
  return {
    allowed: open,
    limit: rule.limit,
    remaining: 0,
    reset_s: 1,
    retry_after_s: open ? 0 : 1,
  };
}

/**
 * After a local spend: when the isolate's admissions for a busy key run low, ask for the next
 * lease in the background so requests rarely wait for the object. At most one top-up per key in
 * flight per isolate.
 */
function topUp(o: Resolved, entry: KeyLeases, now: number): void {
  if (!o.ctx || o.leaseMs <= 0 || leaseCallPending(entry, now)) return;
  const w = want(entry, now, o.leaseMs);
  if (w < 2 || held(entry, now) * 2 > w) return;
  const end = beginLeaseCall(entry, now, o.timeoutMs);
  background(o.ctx, async () => {
    try {
      const req: AcquireRequest = {
        rule: o.rule,
        take: 0,
        lease: w,
        lease_ms: o.leaseMs,
        version: o.key.version,
        returns: takeReturns(entry),
      };
      const sentAt = o.now();
      const res = await call(o, (stub) => stub.acquire(req), 'acquire');
      const at = o.now();
      if (res.revoked || res.stale) return keyChanged(o, at);
      const lease = install(entry, res, sentAt, at);
      if (lease) scheduleReturn(o, entry, lease, at);
      else returnLate(o, entry);
    } catch {
      // The next request that finds no admission asks inline and applies the failure policy.
    } finally {
      end();
    }
  });
}

/** Lease upkeep in `waitUntil`, as no request's work (see the module comment). */
function background(ctx: WaitUntil, task: () => Promise<unknown>): void {
  ctx.waitUntil(runOutsideTrace(task));
}

/** Gives back what `lease` still holds shortly before it expires (from `waitUntil`). */
function scheduleReturn(o: Resolved, entry: KeyLeases, lease: LocalLease, now: number): void {
  if (!o.ctx) return;
  background(o.ctx, () =>
    sleep(Math.max(0, lease.returnAt - now)).then(async () => {
      // What the lease still holds, and the spent leases' closing notices no later call carried
      // (a key gone quiet), so the object stops holding quota back for them.
      const r = closeForReturn(entry, lease);
      const returns = [...(r ? [r] : []), ...takeReturns(entry)];
      if (returns.length === 0) return;
      try {
        await call(o, (stub) => stub.release(o.rule, returns), 'release');
      } catch {
        // Unreturned admissions expire unspent: under-admission, never over-admission.
      }
    }),
  );
}

/** A lease that arrived too late to spend goes straight back, while the object may still take it. */
function returnLate(o: Resolved, entry: KeyLeases): void {
  if (entry.returns.some((r) => r.unused > 0)) sendReturns(o, takeReturns(entry));
}

function sendReturns(o: Resolved, returns: LeaseReturn[]): void {
  if (!o.ctx || returns.length === 0) return;
  background(o.ctx, () =>
    call(o, (stub) => stub.release(o.rule, returns), 'release').catch(() => {
      // Unreturned admissions expire unspent: under-admission, never over-admission.
    }),
  );
}

function keyChanged(o: Resolved, now: number): void {
  // What this isolate still held under the old record goes back; it may not be spent any more.
  sendReturns(o, o.pool.forget(o.key.id, now));
  o.onKeyChanged(o.key.id);
}

/** One RPC on a fresh stub (stubs belong to the request that makes them), with the timeout. */
function call<T>(
  o: Resolved,
  fn: (stub: RateLimiterStub) => Promise<T>,
  op: 'acquire' | 'release',
): Promise<T> {
  metrics.inc('rate_limit_object_calls_total', { op });
  return withTimeout(fn(o.ns.get(o.ns.idFromName(o.key.id))), o.timeoutMs);
}

export type TokenQuotaOutcome =
  | /** Decided without a call: the request alone exceeds the whole quota. */ {
      source: 'too_large';
      decision: TokenDecision;
    }
  | /** The key's object charged (or refused) the tokens. */ {
      source: 'object';
      decision: TokenDecision;
    }
  /** The object failed; the failure policy decides (`allowed` = fail_open). */
  | { source: 'failure'; allowed: boolean; mode: RateLimitFailureMode; error: unknown };

/**
 * The token quota (docs/tokens.md): one `chargeTokens` call to the key's object per request,
 * exact, no leases. A request that alone exceeds the quota is refused here without a call.
 * A transient failure is retried once like `acquire` (a retried charge may count twice — the safe
 * direction); otherwise the failure policy applies, as for the request quota.
 */
export async function chargeTokenQuota(
  ns: Pick<DurableObjectNamespace<RateLimiter>, 'idFromName' | 'get'>,
  keyId: string,
  rule: TokenRule,
  tokens: number,
  failureMode: RateLimitFailureMode,
  timeoutMs = RATE_LIMIT_TIMEOUT_MS,
): Promise<TokenQuotaOutcome> {
  if (tokens > rule.tokens) {
    return {
      source: 'too_large',
      decision: {
        allowed: false,
        too_large: true,
        limit: rule.tokens,
        remaining: 0,
        reset_s: 0,
        retry_after_s: 0,
      },
    };
  }
  const once = () => {
    metrics.inc('rate_limit_object_calls_total', { op: 'tokens' });
    return withTimeout(ns.get(ns.idFromName(keyId)).chargeTokens(rule, tokens), timeoutMs);
  };
  try {
    let decision: TokenDecision;
    try {
      decision = await once();
    } catch (error) {
      if (!isRetryable(error)) throw error;
      decision = await once();
    }
    return { source: 'object', decision };
  } catch (error) {
    return { source: 'failure', allowed: failureMode === 'fail_open', mode: failureMode, error };
  }
}

/**
 * Charges reported output tokens to the key's token quota, once per `id` (docs/tokens.md "Usage
 * after the call"): the object remembers the id for `memoryMs`, so this call is idempotent and a
 * failure may simply be retried — once here for a transient one. Throws when the object cannot
 * answer; the caller decides what a pending charge means.
 */
export async function chargeUsageQuota(
  ns: Pick<DurableObjectNamespace<RateLimiter>, 'idFromName' | 'get'>,
  keyId: string,
  rule: TokenRule,
  id: string,
  tokens: number,
  memoryMs: number,
  timeoutMs = RATE_LIMIT_TIMEOUT_MS,
): Promise<UsageChargeResult> {
  const once = () => {
    metrics.inc('rate_limit_object_calls_total', { op: 'usage' });
    return withTimeout(
      ns.get(ns.idFromName(keyId)).chargeUsage(rule, id, tokens, memoryMs),
      timeoutMs,
    );
  };
  try {
    return await once();
  } catch (error) {
    if (!isRetryable(error)) throw error;
    return await once();
  }
}

/**
 * Tells the key's object that its record changed (admin PATCH / DELETE), so isolates still
 * holding the old record learn it at their next call instead of after KEY_CACHE_TTL_S. Retried
 * once; throws if the object cannot be told.
 */
export async function syncKey(
  ns: Pick<DurableObjectNamespace<RateLimiter>, 'idFromName' | 'get'>,
  keyId: string,
  update: KeyUpdate,
  timeoutMs = RATE_LIMIT_TIMEOUT_MS,
): Promise<void> {
  const once = () => {
    metrics.inc('rate_limit_object_calls_total', { op: 'sync' });
    return withTimeout(ns.get(ns.idFromName(keyId)).sync(update), timeoutMs);
  };
  try {
    await once();
  } catch {
    await once();
  }
}

/**
 * Both quotas' current usage, read from the key's object without consuming anything (the admin
 * usage view). Retried once like `syncKey`; throws if the object cannot answer.
 */
export async function readUsage(
  ns: Pick<DurableObjectNamespace<RateLimiter>, 'idFromName' | 'get'>,
  keyId: string,
  rule: RateLimitRule,
  tokenRule: TokenRule | null,
  timeoutMs = RATE_LIMIT_TIMEOUT_MS,
): Promise<KeyUsage> {
  const once = () => withTimeout(ns.get(ns.idFromName(keyId)).usage(rule, tokenRule), timeoutMs);
  try {
    return await once();
  } catch {
    return await once();
  }
}

function isRetryable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { retryable?: unknown; overloaded?: unknown };
  return e.retryable === true && e.overloaded !== true;
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RateLimiterTimeoutError(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
