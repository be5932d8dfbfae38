/**
 * The isolate's side of rate-limit leases: per key, the admissions this isolate holds (granted by
 * the key's RATE_LIMITER object, see bucket.ts) and the observed request rate that sizes the next
 * lease. Plain data and arithmetic, no I/O: `checkRateLimit` (index.ts) does the RPCs.
 *
 * Spending. A lease is spent strictly before `usableUntil` = (isolate clock when the request for
 * it was *sent*) + lease lifetime − LEASE_CLOCK_MARGIN_MS. The object starts the lifetime when it
 * grants, which is later in real time than the send, so the isolate stops before the object's
 * expiry whatever the network delay; the margin covers the coarse clocks of Workers (which move
 * only across I/O). Only durations of the two clocks are compared, never their readings.
 *
 * Sizing. `want` = the key's rate in this isolate over the last second × LEASE_TARGET_MS, so a
 * lease lasts about that long: 1 (no lease, one RPC per request: the exact behaviour) for a quiet
 * key; growing with the rate. The object caps what it grants (bucket.ts `maxOutstanding`).
 *
 * `remaining` from a lease: what the key's bucket held when the object last answered this isolate
 * (≤ one lease lifetime ago) plus this isolate's unspent leased admissions. In one isolate that is
 * GCRA's exact count (less refill since that answer); other isolates' spending since then is not
 * seen. It is never more than the object's figure plus admissions this isolate really holds.
 */
import { sleep } from '../timing';
import type { RateLimitDecision, RateLimitRule } from './gcra';
import {
  LEASE_CLOCK_MARGIN_MS,
  LEASE_MAX_RTT_SHARE,
  LEASE_MAX_WANT,
  LEASE_RETURN_MARGIN_MS,
  LEASE_TARGET_MS,
  maxOutstanding,
} from './limits';

/** Longest pause between two looks while waiting for another request's lease call. */
const MAX_POLL_MS = 8;
/** Rate window: two slots of this length. */
const RATE_SLOT_MS = 500;
/** Keys tracked per isolate; the least recently used goes first. */
export const LEASE_POOL_MAX_KEYS = 10_000;

export interface LeaseGrant {
  id: string;
  tokens: number;
  ttl_ms: number;
}

export interface LeaseReturn {
  id: string;
  unused: number;
}

export interface LocalLease {
  readonly id: string;
  left: number;
  /** Isolate clock: spend strictly before this. */
  readonly usableUntil: number;
  /** When unspent admissions should go back (isolate clock). */
  readonly returnAt: number;
  closed: boolean;
}

export interface KeyLeases {
  readonly version: string | null;
  readonly rule: RateLimitRule;
  leases: LocalLease[];
  /** The bucket's `remaining` in the object's last answer (leases excluded). */
  bucket: number;
  /** Isolate clock when the key's bucket is full again, per the object's last answer. */
  fullAt: number;
  /** Round trip of this isolate's calls to the key's object (moving average, ms). */
  rttMs: number;
  readonly maxRttShare: number;
  slotStart: number;
  slotCount: number;
  prevCount: number;
  /** Lease-bearing calls for this key in flight from this isolate. */
  inflight: number;
  /**
   * Those calls are given up on after this (isolate clock): a request cancelled mid-call never
   * ends its call, and nobody may wait on it for longer than one call's timeout.
   */
  inflightUntil: number;
  /** Leases closed while live (e.g. on a policy change); their admissions go back on the next call. */
  returns: LeaseReturn[];
}

export class LeasePool {
  readonly #keys = new Map<string, KeyLeases>();

  constructor(
    readonly maxKeys = LEASE_POOL_MAX_KEYS,
    /**
     * Lease only while the object's round trip is at most this share of the lease lifetime
     * (tests raise it to force leases on a loaded machine).
     */
    readonly maxRttShare = LEASE_MAX_RTT_SHARE,
  ) {}

  /**
   * The key's entry for a request at `now`, counting the request toward the rate. A changed key
   * version or rule starts afresh; the old leases' unspent admissions are queued for return.
   */
  entry(keyId: string, version: string | null, rule: RateLimitRule, now: number): KeyLeases {
    let e = this.#keys.get(keyId);
    if (!e) {
      e = fresh(version, rule, now, this.maxRttShare);
    } else if (
      e.version !== version ||
      e.rule.limit !== rule.limit ||
      e.rule.window_s !== rule.window_s
    ) {
      const returns = [...e.returns, ...closeAll(e, now)];
      e = fresh(version, rule, now, this.maxRttShare);
      e.returns = returns;
    }
    this.#keys.delete(keyId); // re-insert last: least recently used goes first
    this.#keys.set(keyId, e);
    while (this.#keys.size > this.maxKeys) {
      const oldest = this.#keys.keys().next().value;
      if (oldest === undefined) break;
      this.#keys.delete(oldest);
    }
    // Rate: the current slot plus the previous one.
    const age = now - e.slotStart;
    if (age >= RATE_SLOT_MS) {
      e.prevCount = age >= 2 * RATE_SLOT_MS ? 0 : e.slotCount;
      e.slotStart = now;
      e.slotCount = 0;
    }
    e.slotCount++;
    return e;
  }

  /** Forgets a key (revoked, or changed by this isolate); returns what was still unspent. */
  forget(keyId: string, now: number): LeaseReturn[] {
    const e = this.#keys.get(keyId);
    this.#keys.delete(keyId);
    return e ? [...e.returns, ...closeAll(e, now)] : [];
  }

  get size(): number {
    return this.#keys.size;
  }
}

function fresh(
  version: string | null,
  rule: RateLimitRule,
  now: number,
  maxRttShare: number,
): KeyLeases {
  return {
    version,
    rule,
    leases: [],
    bucket: 0,
    fullAt: now,
    rttMs: 0,
    maxRttShare,
    slotStart: now,
    slotCount: 0,
    prevCount: 0,
    inflight: 0,
    inflightUntil: 0,
    returns: [],
  };
}

function closeAll(e: KeyLeases, now: number): LeaseReturn[] {
  const out: LeaseReturn[] = [];
  for (const l of e.leases) {
    if (!l.closed && l.left > 0 && now < l.usableUntil) out.push({ id: l.id, unused: l.left });
    l.closed = true;
    l.left = 0;
  }
  e.leases = [];
  return out;
}

/** Admissions this isolate holds for the key at `now` (expired leases are dropped). */
export function held(e: KeyLeases, now: number): number {
  let n = 0;
  e.leases = e.leases.filter((l) => !l.closed && l.left > 0 && now < l.usableUntil);
  for (const l of e.leases) n += l.left;
  return n;
}

/** Spends one leased admission at `now`: the decision, or undefined when none is held. */
export function spend(e: KeyLeases, now: number): RateLimitDecision | undefined {
  const total = held(e, now);
  const lease = e.leases[0]; // soonest to expire first
  if (!lease || total === 0) return undefined;
  lease.left--;
  if (lease.left === 0) {
    // Spent: tell the object with the next call, so it stops counting the lease as outstanding
    // (which holds quota back from other isolates) before the lease expires.
    lease.closed = true;
    queueReturn(e, { id: lease.id, unused: 0 });
  }
  return {
    allowed: true,
    limit: e.rule.limit,
    remaining: e.bucket + total - 1,
    reset_s: Math.max(1, Math.ceil((e.fullAt - now) / 1000)),
    retry_after_s: 0,
  };
}

/**
 * How many admissions to ask for: the rate over the last second × the lease horizon (see
 * {@link leaseHorizonMs}), at least 1; 1 while the object's round trip exceeds
 * LEASE_MAX_RTT_SHARE of the lease lifetime, and always 1 for a key too small to lease (its
 * requests then never wait for a lease call that grants nothing).
 */
export function want(e: KeyLeases, now: number, leaseMs: number): number {
  if (maxOutstanding(e.rule) === 0) return 1;
  // Over a round trip that is a large part of the lease, leases arrive mostly expired and their
  // returns risk arriving after the object's expiry (lost to the key): no leases then.
  if (e.rttMs > e.maxRttShare * leaseMs) return 1;
  const span = RATE_SLOT_MS + Math.max(0, now - e.slotStart);
  const perMs = (e.prevCount + e.slotCount) / span;
  return Math.max(
    1,
    Math.min(LEASE_MAX_WANT, Math.floor(perMs * leaseHorizonMs(e.rttMs, leaseMs))),
  );
}

/**
 * How long a lease should last at the isolate's rate: LEASE_TARGET_MS, or two round trips to the
 * object when that is longer — the top-up is sent when half the lease is left, so half a lease must
 * outlast one round trip or requests stall waiting for it (measured: under load the local object's
 * round trip reached 250 ms–1 s and 6 % of requests waited that long) — but never more than half
 * the lease lifetime, so a lease is spent well before it expires.
 */
export function leaseHorizonMs(rttMs: number, leaseMs: number): number {
  return Math.min(Math.max(LEASE_TARGET_MS, 2 * rttMs), leaseMs / 2);
}

/**
 * Records the object's answer (sent at `sentAt`, received at `now`) and installs a granted lease.
 * Returns the installed lease, if any.
 */
export function install(
  e: KeyLeases,
  answer: { decision: RateLimitDecision; lease: LeaseGrant | null },
  sentAt: number,
  now: number,
): LocalLease | null {
  e.rttMs = (e.rttMs + Math.max(0, now - sentAt)) / 2;
  e.bucket = answer.decision.remaining;
  // Rounded-up seconds measured from when the answer arrived: never earlier than the object's.
  e.fullAt = now + answer.decision.reset_s * 1000;
  const g = answer.lease;
  if (!g || g.tokens <= 0) return null;
  const usableUntil = sentAt + g.ttl_ms - LEASE_CLOCK_MARGIN_MS;
  if (usableUntil <= now) {
    // Arrived too late to spend safely (the answer took longer than the lease). The object's
    // expiry is later than this isolate's conservative estimate, so it can usually take it back.
    queueReturn(e, { id: g.id, unused: g.tokens });
    return null;
  }
  const lease: LocalLease = {
    id: g.id,
    left: g.tokens,
    usableUntil,
    returnAt: usableUntil - LEASE_RETURN_MARGIN_MS,
    closed: false,
  };
  e.leases.push(lease);
  e.leases.sort((a, b) => a.usableUntil - b.usableUntil);
  return lease;
}

/**
 * Closes `lease` for return if it still holds admissions: after this nothing spends it. Returns
 * what to give back, or null.
 */
export function closeForReturn(e: KeyLeases, lease: LocalLease): LeaseReturn | null {
  // Past `usableUntil` the object may still take it back (its expiry is later); it decides.
  if (lease.closed || lease.left <= 0) return null;
  const unused = lease.left;
  lease.left = 0;
  lease.closed = true;
  e.leases = e.leases.filter((l) => l !== lease);
  return { id: lease.id, unused };
}

/** Most returns kept for the next call (the object takes at most 64 per call). */
const MAX_QUEUED_RETURNS = 64;

function queueReturn(e: KeyLeases, r: LeaseReturn): void {
  e.returns.push(r);
  // Beyond the bound the oldest notices are dropped: their leases simply count until expiry.
  if (e.returns.length > MAX_QUEUED_RETURNS) e.returns.shift();
}

/**
 * Waits, at most until its timeout, while a lease-bearing call for this key made by another request of this
 * isolate, is in flight — instead of sending one more call to the object, so a burst on a busy
 * key becomes one call rather than one per request. The wait polls on the waiter's own timers:
 * nothing of the other request (its promises, its resolvers) is touched, because in workerd a
 * continuation woken from another request runs in *that* request's context and its I/O fails.
 */
export async function waitForLease(e: KeyLeases, now: () => number): Promise<void> {
  let step = 1;
  while (leaseCallPending(e, now())) {
    await sleep(Math.min(step, Math.max(1, e.inflightUntil - now())));
    step = Math.min(step * 2, MAX_POLL_MS);
  }
}

/** Whether a lease-bearing call of this isolate for the key may still be answered. */
export function leaseCallPending(e: KeyLeases, now: number): boolean {
  return e.inflight > 0 && now < e.inflightUntil;
}

/**
 * Marks a lease-bearing call as started, to be given up on after `timeoutMs`; the returned
 * function ends it (idempotent).
 */
export function beginLeaseCall(e: KeyLeases, now: number, timeoutMs: number): () => void {
  if (!leaseCallPending(e, now)) e.inflight = 0; // any earlier call was abandoned
  e.inflight++;
  e.inflightUntil = Math.max(e.inflightUntil, now + timeoutMs);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    e.inflight = Math.max(0, e.inflight - 1);
  };
}

/** Takes the returns queued on the entry (to send with the next call). */
export function takeReturns(e: KeyLeases): LeaseReturn[] {
  const r = e.returns;
  e.returns = [];
  return r;
}
