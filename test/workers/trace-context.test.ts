/**
 * W3C Trace Context and Server-Timing through the real app in workerd: the caller's trace is
 * continued (or a new one started) on every route and status, the trace id reaches log lines and
 * the Sentry event's trace context, and `/v1/check` reports its four stage timings.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import { app } from '../../src/app';
import type { Env } from '../../src/env';
import { ADMIN_TOKEN, BASE, createKey } from './helpers';
import { SentryProject } from './sentry-sink-client';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

async function call(req: Request, testEnv: Env = env): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(req, testEnv, ctx);
  await res.clone().arrayBuffer();
  await waitOnExecutionContext(ctx);
  return res;
}

function checkReq(key: string, headers: Record<string, string> = {}, input = 'hello'): Request {
  return new Request(BASE + '/v1/check', {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'gpt-4', operation: 'classify', input }),
  });
}

function parts(res: Response): { traceId: string; spanId: string; flags: string } {
  const m = TRACEPARENT.exec(res.headers.get('traceparent') ?? '');
  if (!m) throw new Error(`no valid traceparent: ${res.headers.get('traceparent')}`);
  return { traceId: m[1]!, spanId: m[2]!, flags: m[3]! };
}

describe('traceparent', () => {
  it('continues the caller’s trace: same trace id, vakt’s own span id, the caller’s sampled flag', async () => {
    const { key } = await createKey({ name: 'trace-continue' });
    for (const flags of ['01', '00']) {
      const res = await call(checkReq(key, { traceparent: `00-${TRACE}-${PARENT}-${flags}` }));
      expect(res.status).toBe(200);
      const p = parts(res);
      expect(p.traceId).toBe(TRACE);
      expect(p.spanId).not.toBe(PARENT);
      expect(p.flags).toBe(flags);
    }
  });

  it('starts a new trace when traceparent is absent or invalid, sampled by default', async () => {
    const { key } = await createKey({ name: 'trace-new' });
    const seen = new Set<string>();
    for (const header of [
      undefined,
      `00-${TRACE.toUpperCase()}-${PARENT}-01`,
      `00-${'0'.repeat(32)}-${PARENT}-01`,
      `ff-${TRACE}-${PARENT}-01`,
      `00-${TRACE}-${PARENT}-01-trailing`,
      'garbage',
    ]) {
      const res = await call(checkReq(key, header ? { traceparent: header } : {}));
      const p = parts(res);
      expect(p.traceId, header).not.toBe(TRACE);
      expect(p.flags).toBe('01');
      seen.add(p.traceId);
    }
    expect(seen.size).toBe(6);
  });

  it('refuses a trace id that is a planted number (the identifier rule) and starts a new trace', async () => {
    const { key } = await createKey({ name: 'trace-planted' });
    // All digits: 01010012356 (a valid fødselsnummer) padded to 32.
    const planted = '010100123560000000000000000000001'.slice(0, 32);
    const res = await call(checkReq(key, { traceparent: `00-${planted}-${PARENT}-01` }));
    expect(res.status).toBe(200);
    expect(parts(res).traceId).not.toBe(planted);
    expect(res.headers.get('traceparent')).not.toContain('01010012356');
  });

  it('answers every response with a traceparent: 404, 401, 415, 429, 200 on /health and /metrics', async () => {
    const { key } = await createKey({
      name: 'trace-429',
      policy: { rate_limit: { limit: 1, window_s: 3600 } },
    });
    await call(checkReq(key));
    const header = { traceparent: `00-${TRACE}-${PARENT}-01` };
    const responses = [
      await call(new Request(BASE + '/nope', { headers: header })),
      await call(
        new Request(BASE + '/v1/check', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...header },
          body: '{}',
        }),
      ),
      await call(
        new Request(BASE + '/v1/check', {
          method: 'POST',
          headers: { ...header, 'Content-Type': 'text/plain' },
          body: 'x',
        }),
      ),
      await call(checkReq(key, header)),
      await call(new Request(BASE + '/health', { headers: header })),
      await call(new Request(BASE + '/metrics', { headers: header })),
      await call(
        new Request(BASE + '/admin/keys', {
          headers: { ...header, Authorization: `Bearer ${ADMIN_TOKEN}` },
        }),
      ),
    ];
    expect(responses.map((r) => r.status)).toEqual([404, 401, 415, 429, 200, 200, 200]);
    for (const r of responses) expect(parts(r).traceId).toBe(TRACE);
  });
});

describe('Server-Timing', () => {
  const entry = /^([a-z_]+);dur=(\d+(?:\.\d+)?)$/;
  const stages = (res: Response) =>
    (res.headers.get('Server-Timing') ?? '')
      .split(', ')
      .filter(Boolean)
      .map((e) => {
        const m = entry.exec(e);
        if (!m) throw new Error(`bad Server-Timing entry ${e}`);
        return [m[1]!, Number(m[2])] as const;
      });

  it('reports the four stages of a decision, in order, in milliseconds', async () => {
    const { key } = await createKey({ name: 'timing' });
    // A long input so scoring takes measurable time.
    const res = await call(checkReq(key, {}, 'Kontakt meg på kari@example.no. '.repeat(2000)));
    expect(res.status).toBe(200);
    const got = stages(res);
    expect(got.map(([n]) => n)).toEqual(['rate_limit', 'validation', 'scoring', 'logging']);
    for (const [, ms] of got) {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(60_000);
    }
  });

  it('reports only the rate_limit stage for a refused request, and nothing where no stage ran', async () => {
    const { key } = await createKey({
      name: 'timing-429',
      policy: { rate_limit: { limit: 1, window_s: 3600 } },
    });
    await call(checkReq(key));
    const refused = await call(checkReq(key));
    expect(refused.status).toBe(429);
    expect(stages(refused).map(([n]) => n)).toEqual(['rate_limit']);
    expect((await call(new Request(BASE + '/health'))).headers.get('Server-Timing')).toBeNull();
    const unauth = await call(
      new Request(BASE + '/v1/check', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      }),
    );
    expect(unauth.headers.get('Server-Timing')).toBeNull();
  });
});

/** A D1 binding whose every call fails, like a D1 outage mid-request. */
function failingDb(): D1Database {
  return new Proxy({} as D1Database, {
    get: () => () => {
      throw new Error('D1_ERROR: injected outage');
    },
  });
}

describe('the trace id in logs and Sentry', () => {
  it('puts the caller’s trace id into the error log line and the Sentry event’s trace context', async () => {
    const project = new SentryProject();
    const lines: string[] = [];
    const spy = vi
      .spyOn(console, 'error')
      .mockImplementation((...a: unknown[]) => void lines.push(a.map(String).join(' ')));
    let res: Response;
    try {
      res = await call(
        checkReq('vakt_' + 'x'.repeat(43), { traceparent: `00-${TRACE}-${PARENT}-01` }),
        { ...env, SENTRY_DSN: project.dsn, DB: failingDb() },
      );
    } finally {
      spy.mockRestore();
    }
    expect(res.status).toBe(500);
    const { spanId } = parts(res);
    const errorLine = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'error');
    expect(errorLine).toMatchObject({ trace_id: TRACE, span_id: spanId, route: '/v1/check' });

    const [event] = await project.events();
    expect(event?.contexts?.trace).toMatchObject({ trace_id: TRACE, span_id: spanId });
    const [envelope] = await project.envelopes();
    // The envelope's dynamic sampling context names the same trace.
    expect(envelope?.header.trace).toMatchObject({ trace_id: TRACE });
  });

  it('gives a request without traceparent its own trace id in Sentry (not an SDK-invented one)', async () => {
    const project = new SentryProject();
    const res = await call(checkReq('vakt_' + 'y'.repeat(43)), {
      ...env,
      SENTRY_DSN: project.dsn,
      DB: failingDb(),
    });
    expect(res.status).toBe(500);
    const [event] = await project.events();
    expect(event?.contexts?.trace).toMatchObject({
      trace_id: parts(res).traceId,
      span_id: parts(res).spanId,
    });
  });
});
