/**
 * Sentry reporting, for real: toucan-js posts envelopes to a local HTTP sink standing in for
 * Sentry (test/node/support/sentry-sink.ts), and each test parses what arrived.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { Hono } from 'hono';
import { beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { app, onError } from '../../src/app';
import type { Env } from '../../src/env';
import { generateApiKey } from '../../src/keys/crypto';
import { apiKeyAuth } from '../../src/middleware/auth';
import {
  captureException,
  MAX_REPORTS_PER_INVOCATION,
  type CaptureOptions,
  type ReportTags,
} from '../../src/observability/report';
import { sentryStats, type SentryStats } from '../../src/observability/stats';
import type { AppEnv } from '../../src/types';
import { ADMIN_TOKEN, BASE, createKey } from './helpers';
import { SentryProject, type SentryEventPayload } from './sentry-sink-client';

// Values that must never reach Sentry.
const FNR = '01010012356';
const EMAIL = 'kari.nordmann@example.no';
const CARD = '4111 1111 1111 1111';
const API_KEY = generateApiKey();
const PLANTED = { FNR, EMAIL, CARD, API_KEY, ADMIN_TOKEN };
const PLANTED_TEXT = `fnr ${FNR}, mail ${EMAIL}, card ${CARD}, key ${API_KEY}, admin ${ADMIN_TOKEN}`;

/** Every form in which a planted value could appear in an envelope. */
function leakedValues(raw: string): string[] {
  const forms = [
    ...Object.values(PLANTED),
    CARD.replace(/ /g, ''),
    API_KEY.slice('vakt_'.length),
    encodeURIComponent(EMAIL),
  ];
  return forms.filter((f) => raw.includes(f));
}

function envWith(vars: Partial<Env>): Env {
  return { ...env, ...vars };
}

/** A D1 binding whose every call fails with `message`, like a D1 outage mid-request. */
function failingDb(message: string, cause?: Error): D1Database {
  const fail = () => {
    throw new Error(message, cause ? { cause } : undefined);
  };
  return new Proxy({} as D1Database, { get: () => fail });
}

async function run(
  target: {
    fetch: (req: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>;
  },
  request: Request,
  testEnv: Env,
): Promise<{ res: Response; ctx: ExecutionContext }> {
  const ctx = createExecutionContext();
  const res = await target.fetch(request, testEnv, ctx);
  return { res, ctx };
}

function statsDelta(before: SentryStats): Record<keyof SentryStats, number> {
  const now = sentryStats();
  return {
    constructed: now.constructed - before.constructed,
    sent: now.sent - before.sent,
    failed: now.failed - before.failed,
    sampledOut: now.sampledOut - before.sampledOut,
    suppressed: now.suppressed - before.suppressed,
    abandoned: now.abandoned - before.abandoned,
  };
}

function checkRequest(init: { query?: string; headers?: Record<string, string> } = {}): Request {
  return new Request(`${BASE}/v1/check${init.query ?? ''}`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${API_KEY}`,
      'Content-Type': 'application/json',
      ...init.headers,
    },
    body: JSON.stringify({ model: 'gpt-4', operation: 'classify', input: PLANTED_TEXT }),
  });
}

/**
 * A test-only app: the real app (middleware and routes) mounted as a sub-app, the real
 * `onError`, and one route that fails after API-key authentication — an unexpected error in a
 * request that carries an API key, without a test-only route in production code.
 */
const explodingApp = new Hono<AppEnv>()
  .route('/', app)
  .post('/v1/explode/:id', apiKeyAuth(), () => {
    throw new TypeError(`explode failed for ${EMAIL}`);
  })
  .onError(onError);

/** The request id the 500 problem tells the client to quote. */
async function quotedRequestId(res: Response): Promise<string> {
  const { detail } = await res.json<{ detail: string }>();
  const id = /quote request id ([\w=-]+)\.$/.exec(detail)?.[1];
  if (!id) throw new Error(`no request id in: ${detail}`);
  return id;
}

// The reporter loads the Sentry SDK with a dynamic import; in vitest that import is transformed
// on first use, which can take seconds on a loaded machine. Pay for it once, outside the tests.
beforeAll(async () => {
  await import('../../src/observability/sentry');
}, 60_000);

describe('Sentry: unexpected errors in requests', () => {
  it('reports a 500 with event type, message, tags and request, and the response is unchanged', async () => {
    const project = new SentryProject();
    const before = sentryStats();
    const { res, ctx } = await run(
      app,
      checkRequest(),
      envWith({ SENTRY_DSN: project.dsn, DB: failingDb('D1_ERROR: database is locked') }),
    );

    expect(res.status).toBe(500);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
    const requestId = await quotedRequestId(res.clone());
    expect(await res.json()).toMatchObject({
      type: 'urn:vakt:problem:internal-error',
      status: 500,
    });
    await waitOnExecutionContext(ctx);

    const envelopes = await project.envelopes();
    expect(envelopes).toHaveLength(1);
    expect(envelopes[0]!.header).toMatchObject({ sdk: { name: 'toucan-js' } });
    expect(envelopes[0]!.items.map((i) => i.header.type)).toEqual(['event']);
    const events = await project.events();
    expect(events).toHaveLength(1);
    const event = events[0]!;
    expect(event.level).toBe('error');
    expect(event.exception?.values?.at(-1)).toMatchObject({
      type: 'Error',
      value: 'D1_ERROR: database is locked',
    });
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('X-Request-Id')).toBe(requestId);
    expect(event.tags).toEqual({ route: '/v1/check', method: 'POST', request_id: requestId });
    expect(event.environment).toBe('test');
    expect(event.release).toBe(env.RELEASE);
    expect(event.transaction).toBe('POST /v1/check');
    expect(event.request).toEqual({ method: 'POST', url: `${BASE}/v1/check` });
    expect(event.user).toBeUndefined();
    expect(statsDelta(before)).toMatchObject({ constructed: 1, sent: 1, failed: 0 });
  });

  it('tags the route pattern and the api_key_id (UUID) when the key is known', async () => {
    const project = new SentryProject();
    const created = await createKey({ name: 'sentry-tags' });
    const { res, ctx } = await run(
      explodingApp,
      new Request(`${BASE}/v1/explode/42`, {
        method: 'POST',
        headers: { 'X-API-Key': created.key, 'Content-Type': 'application/json' },
        body: '{}',
      }),
      envWith({ SENTRY_DSN: project.dsn }),
    );
    expect(res.status).toBe(500);
    const requestId = await quotedRequestId(res);
    await waitOnExecutionContext(ctx);

    const [event] = await project.events();
    expect(event?.exception?.values?.at(-1)).toEqual(
      expect.objectContaining({ type: 'TypeError', value: 'explode failed for [EMAIL]' }),
    );
    expect(event?.tags).toEqual({
      route: '/v1/explode/:id',
      method: 'POST',
      request_id: requestId,
      api_key_id: created.id,
    });
    expect(event?.transaction).toBe('POST /v1/explode/:id');
    expect(leakedValues(JSON.stringify(await project.raw()))).toEqual([]);
    expect(JSON.stringify(await project.raw())).not.toContain(created.key);
  });

  it('lets no planted personal data or secret reach Sentry from headers, query, body, request id or message', async () => {
    const project = new SentryProject();
    const logged: string[] = [];
    const capture = (...args: unknown[]) => void logged.push(args.map(String).join(' '));
    const spies = [
      vi.spyOn(console, 'error').mockImplementation(capture),
      vi.spyOn(console, 'warn').mockImplementation(capture),
      vi.spyOn(console, 'log').mockImplementation(capture),
    ];
    const cause = new Error(`constraint failed for ${EMAIL} / ${CARD}`);
    const { res, ctx } = await run(
      app,
      checkRequest({
        query: `?email=${encodeURIComponent(EMAIL)}&fnr=${FNR}&key=${API_KEY}`,
        headers: {
          'X-API-Key': API_KEY,
          Cookie: `session=${API_KEY}; fnr=${FNR}; mail=${EMAIL}`,
          'X-Request-Id': FNR,
          'X-Forwarded-For': EMAIL,
          'CF-Connecting-IP': '192.0.2.44',
        },
      }),
      envWith({
        SENTRY_DSN: project.dsn,
        DB: failingDb(`D1_ERROR: insert failed: ${PLANTED_TEXT}`, cause),
      }),
    );
    expect(res.status).toBe(500);
    await waitOnExecutionContext(ctx);
    for (const spy of spies) spy.mockRestore();
    // The structured log line of the report carries no planted value either.
    expect(logged.some((l) => l.includes('"msg":"error"'))).toBe(true);
    expect(leakedValues(logged.join('\n'))).toEqual([]);

    const raw = await project.raw();
    expect(raw).toHaveLength(1);
    // The whole envelope, every header, item and field.
    expect(leakedValues(raw[0]!)).toEqual([]);
    expect(raw[0]).not.toContain('192.0.2.44');

    const [event] = await project.events();
    const values = event?.exception?.values ?? [];
    // The error and its cause both arrive, readable, with each value replaced by a marker.
    expect(values.map((v) => v.value)).toEqual([
      expect.stringMatching(/^constraint failed for \[EMAIL\] \/ \[[A-Z_]+\]$/),
      expect.stringMatching(
        /^D1_ERROR: insert failed: fnr \[[A-Z_]+\], mail \[EMAIL\], card \[[A-Z_]+\], key \[VAKT_API_KEY\], admin \[SECRET\]$/,
      ),
    ]);
    expect(event?.request).toEqual({ method: 'POST', url: `${BASE}/v1/check` });
    expect(event?.tags?.request_id).not.toBe(FNR);
    expect(event?.user).toBeUndefined();
  });

  it('does not report client errors (4xx problems)', async () => {
    const project = new SentryProject();
    const before = sentryStats();
    const { res, ctx } = await run(
      app,
      new Request(`${BASE}/v1/check`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      }),
      envWith({ SENTRY_DSN: project.dsn }),
    );
    expect(res.status).toBe(401);
    await waitOnExecutionContext(ctx);
    expect(await project.raw()).toEqual([]);
    expect(statsDelta(before).constructed).toBe(0);
  });
});

describe('Sentry: errors outside the request path', () => {
  const cases: {
    name: string;
    err: Error;
    tags: ReportTags;
    options: CaptureOptions;
    level: string;
  }[] = [
    {
      name: 'a queue-consumer failure',
      err: new Error(`D1 batch insert failed for row with ${EMAIL}`),
      tags: { component: 'audit_consumer', queue: 'vakt-audit', batch_size: '3', attempt: '2' },
      options: {
        transaction: 'queue vakt-audit',
        extra: { first_message_id: 'msg-1', sample: PLANTED_TEXT, nested: { card: CARD } },
        breadcrumbs: [
          { category: 'queue', message: `retrying message for ${EMAIL}` },
          { category: 'd1', data: { sql: `INSERT ... '${FNR}'`, authorization: API_KEY } },
        ],
      },
      level: 'error',
    },
    {
      name: 'a dead-lettered audit event',
      err: new Error('audit event dead-lettered after 3 attempts'),
      tags: { component: 'audit_dlq', queue: 'vakt-audit-dlq', batch_size: '1' },
      options: { transaction: 'queue vakt-audit-dlq', extra: { decision_id: 'd-1' } },
      level: 'error',
    },
    {
      name: 'a rate limiter that failed open',
      err: new Error('Durable Object reset because its code was updated.'),
      tags: {
        component: 'rate_limiter',
        mode: 'fail_open',
        api_key_id: '0f8fad5b-d9cb-469f-a165-70867728950e',
      },
      options: { level: 'warning', transaction: 'POST /v1/check' },
      level: 'warning',
    },
  ];

  it.each(cases)('reports $name with its tags, scrubbed', async ({ err, tags, options, level }) => {
    const project = new SentryProject();
    const ctx = createExecutionContext();
    captureException(envWith({ SENTRY_DSN: project.dsn }), ctx, err, tags, options);
    await waitOnExecutionContext(ctx);

    const raw = await project.raw();
    expect(raw).toHaveLength(1);
    expect(leakedValues(raw[0]!)).toEqual([]);
    const [event] = await project.events();
    expect(event?.level).toBe(level);
    expect(event?.tags).toEqual(tags);
    expect(event?.transaction).toBe(options.transaction);
    expect(event?.environment).toBe('test');
    expect(event?.request).toBeUndefined();
    expect(event?.exception?.values?.at(-1)?.value).toBe(err.message.replace(EMAIL, '[EMAIL]'));
  });

  it('scrubs extra and breadcrumbs of a consumer report', async () => {
    const project = new SentryProject();
    const ctx = createExecutionContext();
    // A fresh error: Sentry reports an error object only once.
    const err = new Error(cases[0]!.err.message);
    captureException(
      envWith({ SENTRY_DSN: project.dsn }),
      ctx,
      err,
      cases[0]!.tags,
      cases[0]!.options,
    );
    await waitOnExecutionContext(ctx);
    const [event] = (await project.events()) as [SentryEventPayload];
    expect(event.extra).toMatchObject({
      first_message_id: 'msg-1',
      nested: { card: expect.stringMatching(/^\[[A-Z_]+\]$/) },
    });
    expect(event.breadcrumbs?.map((b) => b.message ?? b.data)).toEqual([
      'retrying message for [EMAIL]',
      { sql: expect.stringMatching(/^INSERT \.\.\. '\[[A-Z_]+\]'$/), authorization: '[FILTERED]' },
    ]);
  });

  it(`sends at most ${MAX_REPORTS_PER_INVOCATION} reports per invocation and counts the rest`, async () => {
    const project = new SentryProject();
    const before = sentryStats();
    const ctx = createExecutionContext();
    const testEnv = envWith({ SENTRY_DSN: project.dsn });
    for (let i = 0; i < MAX_REPORTS_PER_INVOCATION + 2; i++) {
      captureException(testEnv, ctx, new Error(`message ${i} failed`), { component: 'test' });
    }
    await waitOnExecutionContext(ctx);
    expect(await project.events()).toHaveLength(MAX_REPORTS_PER_INVOCATION);
    expect(statsDelta(before)).toMatchObject({
      constructed: MAX_REPORTS_PER_INVOCATION,
      suppressed: 2,
    });
  });
});

describe('Sentry: delivery never affects the gateway', () => {
  it('an unreachable Sentry leaves the response unchanged; the failure is swallowed and counted', async () => {
    const dsn = `http://public@127.0.0.1:${inject('sentryUnusedPort')}/1`;
    const before = sentryStats();
    const withSentry = await run(
      app,
      checkRequest(),
      envWith({ SENTRY_DSN: dsn, DB: failingDb('D1_ERROR: network') }),
    );
    const without = await run(app, checkRequest(), envWith({ DB: failingDb('D1_ERROR: network') }));

    expect(withSentry.res.status).toBe(500);
    expect(withSentry.res.status).toBe(without.res.status);
    const body = (r: Response) =>
      r.json<Record<string, unknown>>().then(({ detail: _d, ...rest }) => rest);
    expect(await body(withSentry.res)).toEqual(await body(without.res));
    // Resolves (does not reject) although delivery failed.
    await waitOnExecutionContext(withSentry.ctx);
    await waitOnExecutionContext(without.ctx);
    expect(statsDelta(before)).toMatchObject({ constructed: 1, sent: 0, failed: 1 });
  });

  it('a Sentry answering 503 is counted as a failure and changes nothing', async () => {
    const project = new SentryProject();
    await project.answerWith(503);
    const before = sentryStats();
    const { res, ctx } = await run(
      app,
      checkRequest(),
      envWith({ SENTRY_DSN: project.dsn, DB: failingDb('D1_ERROR: overloaded') }),
    );
    expect(res.status).toBe(500);
    await waitOnExecutionContext(ctx);
    expect(await project.events()).toHaveLength(1);
    expect(statsDelta(before)).toMatchObject({ sent: 0, failed: 1 });
  });

  it('a slow Sentry does not delay the response', async () => {
    const project = new SentryProject();
    await project.hold();
    const { res, ctx } = await run(
      app,
      checkRequest(),
      envWith({ SENTRY_DSN: project.dsn, DB: failingDb('D1_ERROR: slow') }),
    );
    // The response is complete while Sentry has not answered (it cannot: it is held).
    expect(res.status).toBe(500);
    expect((await res.json<{ status: number }>()).status).toBe(500);

    // Wait (bounded) until the envelope is at the sink and its answer is being held, then let
    // Sentry answer.
    let received = 0;
    for (let i = 0; i < 200 && received === 0; i++) {
      received = (await project.raw()).length;
      if (received === 0) await scheduler.wait(25);
    }
    expect(received).toBe(1);
    expect(await project.release()).toBe(1);
    await waitOnExecutionContext(ctx);
    expect(await project.events()).toHaveLength(1);
  });

  it('builds and sends the event only after the response has been returned', async () => {
    const project = new SentryProject();
    const before = sentryStats();
    const { res, ctx } = await run(
      app,
      checkRequest(),
      envWith({ SENTRY_DSN: project.dsn, DB: failingDb('D1_ERROR: ordering') }),
    );
    expect(res.status).toBe(500);
    // The response is in hand and no Sentry work has run yet: it all waits in ctx.waitUntil.
    expect(statsDelta(before).constructed).toBe(0);
    await waitOnExecutionContext(ctx);
    expect(statsDelta(before)).toMatchObject({ constructed: 1, sent: 1 });
  });

  it('SENTRY_SAMPLE_RATE=0 sends nothing and constructs no Toucan', async () => {
    const project = new SentryProject();
    const before = sentryStats();
    const { res, ctx } = await run(
      app,
      checkRequest(),
      envWith({
        SENTRY_DSN: project.dsn,
        SENTRY_SAMPLE_RATE: '0',
        DB: failingDb('D1_ERROR: sampled'),
      }),
    );
    expect(res.status).toBe(500);
    await waitOnExecutionContext(ctx);
    expect(await project.raw()).toEqual([]);
    expect(statsDelta(before)).toMatchObject({ constructed: 0, sampledOut: 1 });
  });

  it('an invalid SENTRY_DSN is ignored: no Toucan, no request, response unchanged', async () => {
    const before = sentryStats();
    const { res, ctx } = await run(
      app,
      checkRequest(),
      envWith({ SENTRY_DSN: 'not a dsn', DB: failingDb('D1_ERROR: x') }),
    );
    expect(res.status).toBe(500);
    await waitOnExecutionContext(ctx);
    expect(statsDelta(before)).toMatchObject({ constructed: 0, abandoned: 1 });
  });
});

describe('Sentry: no DSN, no overhead', () => {
  it('without SENTRY_DSN, a report schedules nothing and constructs no Toucan', async () => {
    expect(env.SENTRY_DSN || undefined).toBeUndefined(); // '' = unset (vitest.config.ts)
    const before = sentryStats();
    const scheduled: Promise<unknown>[] = [];
    const ctx = { waitUntil: (p: Promise<unknown>) => void scheduled.push(p) };
    captureException(env, ctx, new Error('consumer failed'), { component: 'audit_consumer' });
    expect(scheduled).toHaveLength(0);

    const { res, ctx: requestCtx } = await run(
      app,
      checkRequest(),
      envWith({ DB: failingDb('D1_ERROR: no dsn') }),
    );
    expect(res.status).toBe(500);
    await waitOnExecutionContext(requestCtx);
    expect(statsDelta(before)).toEqual({
      constructed: 0,
      sent: 0,
      failed: 0,
      sampledOut: 0,
      suppressed: 0,
      abandoned: 0,
    });
  });

  it('with SENTRY_DSN set, a successful request constructs no Toucan and sends nothing', async () => {
    const project = new SentryProject();
    const before = sentryStats();
    const { res, ctx } = await run(
      app,
      new Request(`${BASE}/health`),
      envWith({ SENTRY_DSN: project.dsn }),
    );
    expect(res.status).toBe(200);
    await waitOnExecutionContext(ctx);
    expect(await project.raw()).toEqual([]);
    expect(statsDelta(before).constructed).toBe(0);
  });
});
