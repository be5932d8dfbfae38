/** Helpers for the audit tests: events, raw D1 reads, and a D1 wrapper that fails on demand. */
import { env } from 'cloudflare:test';
import type { AuditEvent } from '../../src/audit/event';

let seq = 0;

/** A valid v2 event; `overrides` replace fields. Each call gets a new decision_id and time. */
export function makeEvent(overrides: Partial<AuditEvent> = {}): AuditEvent {
  seq++;
  return {
    v: 2,
    decision_id: crypto.randomUUID(),
    ts: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString(),
    request_id: `req-${seq}`,
    api_key_id: '11111111-1111-4111-8111-111111111111',
    model: 'gpt-4',
    operation: 'classify',
    allowed: true,
    outcome: 'allowed',
    reasons: [],
    finding_counts: {},
    policy_version: 'pv-test',
    input_chars: 5,
    input_hmac: 'a'.repeat(64),
    input_hmac_key_id: 'b'.repeat(16),
    latency_ms: 1.25,
    metadata: null,
    ...overrides,
  };
}

/** A queue message as createMessageBatch takes it. */
export function message(body: unknown, attempts = 1, id = crypto.randomUUID()) {
  return { id, timestamp: new Date(), attempts, body };
}

export async function auditIds(): Promise<string[]> {
  const { results } = await env.DB.prepare(
    'SELECT decision_id FROM audit_log ORDER BY decision_id',
  ).all<{ decision_id: string }>();
  return results.map((r) => r.decision_id);
}

export async function countRows(table: string, where = '1', ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`)
    .bind(...params)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

export async function clearAudit(): Promise<void> {
  await env.DB.batch([
    env.DB.prepare('DELETE FROM audit_log'),
    env.DB.prepare('DELETE FROM audit_log_reasons'),
    env.DB.prepare('DELETE FROM audit_dead_letters'),
  ]);
}

/** Polls `probe` until it returns true, at most `timeoutMs` (the local queue delivers after max_batch_timeout). */
export async function waitFor(probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export type FailWhen = (sql: string, params: readonly unknown[]) => boolean;

/**
 * The real D1 with injected failures: any statement for which `failWhen(sql, params)` is true
 * throws a D1-style error when run (alone or in a batch). Everything else reaches the real
 * database. Handed to the consumer as its `db` parameter; production code is not patched.
 */
export function failingD1(real: D1Database, failWhen: FailWhen): D1Database {
  const facts = new WeakMap<
    object,
    { sql: string; params: readonly unknown[]; real: D1PreparedStatement }
  >();
  const fail = (sql: string) => {
    throw new Error(
      `D1_ERROR: injected failure (${sql.trim().split(/\s+/).slice(0, 3).join(' ')})`,
    );
  };
  const wrap = (
    stmt: D1PreparedStatement,
    sql: string,
    params: readonly unknown[],
  ): D1PreparedStatement => {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        if (prop === 'bind') {
          return (...p: unknown[]) => wrap(target.bind(...p), sql, p);
        }
        if (prop === 'run' || prop === 'all' || prop === 'first' || prop === 'raw') {
          return (...args: unknown[]) => {
            if (failWhen(sql, params)) return Promise.reject(fail(sql));
            return (target[prop] as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    facts.set(proxy, { sql, params, real: stmt });
    return proxy;
  };
  return {
    prepare: (sql: string) => wrap(real.prepare(sql), sql, []),
    batch: async (stmts: D1PreparedStatement[]) => {
      const reals = stmts.map((s) => {
        const f = facts.get(s);
        if (f && failWhen(f.sql, f.params)) fail(f.sql);
        return f ? f.real : s;
      });
      return real.batch(reals);
    },
    exec: (q: string) => real.exec(q),
    dump: () => real.dump(),
    withSession: (c?: string) => real.withSession(c),
  } as unknown as D1Database;
}
