/**
 * Reliability: security properties that cut across components.
 *   - API keys exist at rest only as SHA-256 (every D1 table and column is scanned);
 *   - secrets are compared in constant time (crypto.subtle.timingSafeEqual on the real path, and
 *     no plain `===` on a token in the auth middleware's source);
 *   - /admin/* and, when METRICS_TOKEN is set, /metrics refuse every request without the token;
 *   - planted personal data never reaches D1 (after the real queue consumer ran), the Worker's
 *     console output, or Sentry (a local sink);
 *   - oversized and pathologically nested JSON is refused with a 4xx problem, never a 5xx.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import authSource from '../../src/middleware/auth.ts?raw';
import { app } from '../../src/app';
import type { Env } from '../../src/env';
import { sha256Hex } from '../../src/hash';
import { timingSafeEqualStrings } from '../../src/keys/crypto';
import { ADMIN_TOKEN, BASE, check, createKey } from './helpers';
import { SentryProject } from './sentry-sink-client';

async function call(req: Request, testEnv: Env = env): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(req, testEnv, ctx);
  await res.clone().arrayBuffer();
  await waitOnExecutionContext(ctx);
  return res;
}

async function expectProblem(res: Response, status: number): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('Content-Type')).toBe('application/problem+json');
  const p = (await res.json()) as Record<string, unknown>;
  expect(p.status).toBe(status);
  expect(typeof p.detail).toBe('string');
}

/** Every cell of every application table, as text (D1's own bookkeeping tables excluded). */
async function dumpD1(): Promise<string[]> {
  const { results: tables } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%'",
  ).all<{ name: string }>();
  expect(tables.map((t) => t.name)).toContain('api_keys');
  const cells: string[] = [];
  for (const { name } of tables) {
    const { results } = await env.DB.prepare(`SELECT * FROM "${name}"`).all();
    for (const row of results) for (const v of Object.values(row)) cells.push(String(v));
  }
  return cells;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('API keys at rest', () => {
  it('stores only the SHA-256 of each key, in no table and no column the key itself', async () => {
    const keys = await Promise.all([
      createKey({ name: 'at-rest-1' }),
      createKey({ name: 'at-rest-2', policy: { rate_limit: { limit: 5, window_s: 60 } } }),
    ]);
    // Use them, so any table a request writes (audit, dead letters) is populated too.
    for (const k of keys)
      expect(
        (await check(k.key, { model: 'gpt-4', operation: 'classify', input: 'hi' })).status,
      ).toBe(200);
    const cells = await dumpD1();
    for (const k of keys) {
      const secret = k.key.slice('vakt_'.length);
      expect(cells.some((c) => c.includes(secret))).toBe(false);
      const row = await env.DB.prepare('SELECT key_hash FROM api_keys WHERE id = ?')
        .bind(k.id)
        .first<{ key_hash: string }>();
      expect(row?.key_hash).toBe(await sha256Hex(k.key));
    }
  });
});

describe('constant-time comparison of secrets', () => {
  it('timingSafeEqualStrings is correct for equal, different and different-length strings', async () => {
    expect(await timingSafeEqualStrings('s3cret-token', 's3cret-token')).toBe(true);
    expect(await timingSafeEqualStrings('s3cret-token', 's3cret-tokeN')).toBe(false);
    expect(await timingSafeEqualStrings('s3cret-token', 's3cret')).toBe(false);
    expect(await timingSafeEqualStrings('', 'x')).toBe(false);
  });

  it('the admin token check runs through crypto.subtle.timingSafeEqual', async () => {
    const spy = vi.spyOn(crypto.subtle, 'timingSafeEqual');
    const wrong = await call(
      new Request(BASE + '/admin/keys', { headers: { Authorization: 'Bearer not-the-token' } }),
    );
    await expectProblem(wrong, 401);
    expect(spy).toHaveBeenCalled();
    spy.mockClear();
    const right = await call(
      new Request(BASE + '/admin/keys', { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }),
    );
    expect(right.status).toBe(200);
    expect(spy).toHaveBeenCalled();
  });

  it('the auth middleware never compares a token or secret with == / ===', () => {
    // Strip comments so prose cannot trip (or satisfy) the check.
    const code = authSource.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    expect(code).toContain('timingSafeEqualStrings(');
    const secretish = /\b(token|expected|secret|key|hash)\w*\b/i;
    for (const m of code.matchAll(/([^\n;(){}]*?)\s*(!==|===|!=|==)\s*([^\n;(){}]*)/g)) {
      const [, left = '', , right = ''] = m;
      // Comparisons with literals (null/undefined/numbers/strings) are not secret compares.
      const literal = /^\s*(null|undefined|true|false|\d+|'[^']*'|"[^"]*")\s*$/;
      if (literal.test(right) || literal.test(left)) continue;
      expect(
        secretish.test(left) && secretish.test(right),
        `plain comparison between secrets: ${m[0].trim()}`,
      ).toBe(false);
    }
  });
});

describe('routes that require a token', () => {
  const attempts: [string, Record<string, string>][] = [
    ['no Authorization', {}],
    ['a wrong bearer token', { Authorization: 'Bearer wrong' }],
    ['the token with a different case', { Authorization: `Bearer ${ADMIN_TOKEN.toUpperCase()}` }],
    ['the token as Basic credentials', { Authorization: `Basic ${btoa(`admin:${ADMIN_TOKEN}`)}` }],
    ['the token with a suffix', { Authorization: `Bearer ${ADMIN_TOKEN}x` }],
    ['the token in X-API-Key', { 'X-API-Key': ADMIN_TOKEN }],
  ];
  const adminRoutes: [string, string][] = [
    ['GET', '/admin/keys'],
    ['POST', '/admin/keys'],
    ['GET', '/admin/keys/00000000-0000-4000-8000-000000000000'],
    ['PATCH', '/admin/keys/00000000-0000-4000-8000-000000000000'],
    ['DELETE', '/admin/keys/00000000-0000-4000-8000-000000000000'],
    ['GET', '/admin/audit'],
    ['GET', '/admin/audit/00000000-0000-4000-8000-000000000000'],
    ['GET', '/admin/anything-else'],
  ];

  it.each(attempts)('/admin/* refuses %s with 401 on every route', async (_name, headers) => {
    for (const [method, path] of adminRoutes) {
      const hasBody = method === 'POST' || method === 'PATCH';
      const res = await call(
        new Request(BASE + path, {
          method,
          headers: { ...headers, ...(hasBody ? { 'Content-Type': 'application/json' } : {}) },
          ...(hasBody ? { body: JSON.stringify({ name: 'x' }) } : {}),
        }),
      );
      await expectProblem(res, 401);
      expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
    }
  });

  it('/admin/* is disabled (503), not open, when ADMIN_TOKEN is unset', async () => {
    const res = await call(new Request(BASE + '/admin/keys'), { ...env, ADMIN_TOKEN: undefined });
    await expectProblem(res, 503);
  });

  it('/metrics refuses without METRICS_TOKEN once it is set, and serves with it', async () => {
    const withToken = { ...env, METRICS_TOKEN: 'metrics-secret' };
    const refused: Record<string, string>[] = [
      {},
      { Authorization: 'Bearer wrong' },
      { Authorization: 'metrics-secret' },
    ];
    for (const headers of refused) {
      const res = await call(new Request(BASE + '/metrics', { headers }), withToken);
      expect(await res.clone().text()).not.toContain('requests_total');
      await expectProblem(res, 401);
    }
    const ok = await call(
      new Request(BASE + '/metrics', { headers: { Authorization: 'Bearer metrics-secret' } }),
      withToken,
    );
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('# HELP requests_total');
  });

  it('/metrics in production without METRICS_TOKEN is closed (503) unless METRICS_PUBLIC=true', async () => {
    const production = { ...env, ENVIRONMENT: 'production', METRICS_TOKEN: undefined };
    const closed = await call(new Request(BASE + '/metrics'), production);
    expect(await closed.clone().text()).not.toContain('requests_total');
    const problem = (await closed.clone().json()) as { errors: { path: string }[] };
    expect(problem.errors.map((e) => e.path)).toEqual(['/METRICS_TOKEN', '/METRICS_PUBLIC']);
    await expectProblem(closed, 503);

    const opted = await call(new Request(BASE + '/metrics'), {
      ...production,
      METRICS_PUBLIC: 'true',
    });
    expect(opted.status).toBe(200);
    expect(await opted.text()).toContain('# HELP requests_total');
    const withToken = await call(
      new Request(BASE + '/metrics', { headers: { Authorization: 'Bearer s3cret' } }),
      { ...production, METRICS_TOKEN: 's3cret' },
    );
    expect(withToken.status).toBe(200);
  });
});

describe('planted personal data', () => {
  const FNR = '01010012356';
  const EMAIL = 'planted.person@example.no';
  const CARD = '4111111111111111';
  const PHONE = '+4791234567';
  const PLANTED = [FNR, EMAIL, CARD, PHONE];

  it('never reaches D1, console output or Sentry', async () => {
    const sentry = new SentryProject();
    const testEnv: Env = { ...env, SENTRY_DSN: sentry.dsn };
    const logged: string[] = [];
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        logged.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
      });
    }
    const { key, id } = await createKey({ name: 'planted' });
    const text = `fnr ${FNR}, mail ${EMAIL}, card ${CARD}, phone ${PHONE}`;
    const bodies = [
      {
        model: 'gpt-4',
        operation: 'classify',
        input: text,
        metadata: { note: text.slice(0, 200), [FNR]: 'a key that is personal data' },
      },
      { model: 'gpt-4', operation: 'chat', input: [{ role: 'user', content: text }] },
      { model: 'gpt-4', operation: 'classify', input: `mail ${EMAIL} only` }, // redacted, allowed
      { model: `gpt-4 ${EMAIL}`, operation: `classify ${FNR}`, input: 'x' }, // PII in labels
      // Identifier shapes a validating detector alone misses (glued, prefixed, checksum-free).
      {
        model: `gpt-4 fnr ${FNR}`,
        operation: `card-${CARD}`,
        input: 'x',
        metadata: { [`req_${FNR}`]: `card-${CARD}`, ref: `req_${FNR}` },
      },
    ];
    const decisionIds: string[] = [];
    for (const body of bodies) {
      const res = await call(
        new Request(BASE + '/v1/check', {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${key}`,
            'Content-Type': 'application/json',
            'X-Request-Id': `req_${FNR}`,
          },
          body: JSON.stringify(body),
        }),
        testEnv,
      );
      expect(res.headers.get('X-Request-Id')).not.toContain(FNR);
      const json = (await res.json()) as { decision_id?: string };
      if (json.decision_id) decisionIds.push(json.decision_id);
    }
    expect(decisionIds.length).toBeGreaterThanOrEqual(3);
    // Error paths too: malformed JSON with PII, and a failure inside a request (D1 down) that
    // becomes a 500 and a Sentry event.
    await call(
      new Request(BASE + '/v1/check', {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: `{"input": "${text}`,
      }),
      testEnv,
    );
    const broken = new Proxy({} as D1Database, {
      get: () => () => {
        throw new Error(`D1 down while handling ${text}`);
      },
    });
    const failed = await call(
      new Request(BASE + '/admin/keys', { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }),
      { ...testEnv, DB: broken },
    );
    await expectProblem(failed, 500);

    // Wait (bounded) for the real queue consumer to write the audit rows.
    const deadline = Date.now() + 30_000;
    let rows = 0;
    while (Date.now() < deadline) {
      rows = (await env.DB.prepare('SELECT COUNT(*) AS n FROM audit_log WHERE api_key_id = ?')
        .bind(id)
        .first<{ n: number }>())!.n;
      if (rows >= decisionIds.length) break;
      await scheduler.wait(100);
    }
    expect(rows).toBe(decisionIds.length);

    const events = await sentry.raw();
    expect(events.length, 'the 500 reached the Sentry sink').toBeGreaterThan(0);
    const cells = await dumpD1();
    // Positive controls: the scans see the decisions and the captured console lines.
    for (const d of decisionIds) expect(cells).toContain(d);
    expect(logged.length, 'console output was captured').toBeGreaterThan(0);
    for (const value of PLANTED) {
      expect(
        cells.filter((c) => c.includes(value)),
        `${value} in D1`,
      ).toEqual([]);
      expect(
        logged.filter((l) => l.includes(value)),
        `${value} in console output`,
      ).toEqual([]);
      expect(
        events.filter((e) => e.includes(value)),
        `${value} in Sentry`,
      ).toEqual([]);
    }
  });
});

describe('hostile JSON', () => {
  let key = '';
  const post = (body: BodyInit, headers: Record<string, string> = {}) =>
    call(
      new Request(BASE + '/v1/check', {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', ...headers },
        body,
      }),
    );

  it.each([
    ['10k nested arrays as the body', '['.repeat(10_000) + ']'.repeat(10_000), 400],
    [
      '10k nested arrays as the input',
      `{"model":"gpt-4","operation":"classify","input":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
      400,
    ],
    [
      '10k nested objects in metadata',
      `{"model":"gpt-4","operation":"classify","input":"x","metadata":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`,
      400,
    ],
    ['100k nested arrays, unterminated', '['.repeat(100_000), 400],
    [
      'a __proto__ key',
      '{"__proto__":{"admin":true},"model":"gpt-4","operation":"classify","input":"x"}',
      400,
    ],
    [
      'a body over MAX_BODY_BYTES',
      JSON.stringify({ model: 'gpt-4', operation: 'classify', input: 'x'.repeat(300_000) }),
      413,
    ],
    [
      'a huge number',
      '{"model":"gpt-4","operation":"classify","input":"x","metadata":{"n":1e999}}',
      400,
    ],
  ])('refuses %s with a 4xx problem', async (_name, body, status) => {
    key ||= (await createKey({ name: 'hostile' })).key;
    await expectProblem(await post(body), status);
  });

  it('refuses an oversized chunked body (no Content-Length) with 413', async () => {
    key ||= (await createKey({ name: 'hostile' })).key;
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    await expectProblem(await post(stream), 413);
  });
});
