/**
 * Span export for real: the app in workerd posts OTLP/HTTP JSON to a local collector
 * (test/node/support/otlp-sink.ts), which validates every payload against the official OTLP
 * protocol definitions; each test reads back what its own endpoint received.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, inject, it } from 'vitest';
import { app } from '../../src/app';
import type { Env } from '../../src/env';
import { otlpStats } from '../../src/observability/otlp';
import { BASE, createKey } from './helpers';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT = 'b7ad6b7169203331';
const FNR = '01010012356';
const EMAIL = 'kari.nordmann@example.no';
const CARD = '4111111111111111';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  status: { code: number; message?: string };
  events: Array<{
    name: string;
    attributes: Array<{ key: string; value: Record<string, unknown> }>;
  }>;
}
interface Payload {
  resourceSpans: Array<{
    resource: { attributes: Array<{ key: string; value: Record<string, unknown> }> };
    scopeSpans: Array<{ scope: { name: string }; spans: OtlpSpan[] }>;
  }>;
}

/** One collector endpoint per test. */
class Collector {
  readonly id = `t${crypto.randomUUID().replace(/-/g, '')}`;
  readonly #base = `http://127.0.0.1:${inject('otlpSinkPort')}`;
  readonly endpoint = `${this.#base}/${this.id}`;
  async received(): Promise<{
    payloads: Payload[];
    errors: string[];
    requests: Array<{ contentType: string; headers: Record<string, string> }>;
  }> {
    return (await fetch(`${this.#base}/__otlp/${this.id}`)).json();
  }
  async spans(): Promise<OtlpSpan[]> {
    return (await this.received()).payloads.flatMap((p) =>
      p.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)),
    );
  }
  async control(action: string): Promise<void> {
    await fetch(`${this.#base}/__otlp/${this.id}/${action}`, { method: 'POST' });
  }
}

const attr = (s: OtlpSpan, key: string) => s.attributes.find((a) => a.key === key)?.value;

function envWith(collector: Collector, vars: Partial<Env> = {}): Env {
  return { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, ...vars };
}

function checkReq(key: string, headers: Record<string, string> = {}, input = 'hello'): Request {
  return new Request(BASE + '/v1/check', {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'gpt-4', operation: 'classify', input }),
  });
}

async function call(req: Request, testEnv: Env) {
  const ctx = createExecutionContext();
  const res = await app.fetch(req, testEnv, ctx);
  await res.clone().arrayBuffer();
  return { res, done: waitOnExecutionContext(ctx) };
}

describe('OTLP span export', () => {
  it('exports one server span per request with a child per stage and per subrequest, valid OTLP JSON', async () => {
    const collector = new Collector();
    const { key, id } = await createKey({ name: 'otlp' });
    const { res, done } = await call(
      checkReq(key, {
        traceparent: `00-${TRACE}-${PARENT}-01`,
        tracestate: 'rojo=00f067aa0ba902b7',
      }),
      envWith(collector, { OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=s3cret%20value' }),
    );
    expect(res.status).toBe(200);
    const { decision_id, rate_limit } = await res.json<{
      decision_id: string;
      rate_limit: { remaining: number };
    }>();
    // The instrumented rate limiter really answered (not the fail-open fallback).
    expect(rate_limit.remaining).toBe(59);
    const vaktSpan = /^00-[0-9a-f]{32}-([0-9a-f]{16})-01$/.exec(
      res.headers.get('traceparent')!,
    )![1]!;
    await done;

    const got = await collector.received();
    expect(got.errors).toEqual([]);
    expect(got.requests.map((r) => r.contentType)).toEqual(['application/json']);
    expect(got.requests[0]!.headers['x-collector-key']).toBe('s3cret value');
    const [payload] = got.payloads;
    expect(payload!.resourceSpans[0]!.resource.attributes).toEqual(
      expect.arrayContaining([{ key: 'service.name', value: { stringValue: 'vakt' } }]),
    );
    expect(payload!.resourceSpans[0]!.scopeSpans[0]!.scope.name).toBe('vakt');

    const spans = await collector.spans();
    const server = spans.find((s) => s.kind === 2)!;
    expect(server).toMatchObject({
      traceId: TRACE,
      spanId: vaktSpan,
      parentSpanId: PARENT,
      name: 'POST /v1/check',
      status: { code: 0 },
    });
    expect(attr(server, 'http.route')).toEqual({ stringValue: '/v1/check' });
    // The official serializer writes int64 as a JSON number (proto3 JSON accepts both forms).
    expect(attr(server, 'http.response.status_code')).toEqual({ intValue: 200 });
    expect(attr(server, 'vakt.decision_id')).toEqual({ stringValue: decision_id });
    expect(attr(server, 'vakt.api_key_id')).toEqual({ stringValue: id });
    // A quiet key (and the default 60/min is too small to lease): the object decided.
    expect(attr(server, 'vakt.rate_limit.source')).toEqual({ stringValue: 'object' });

    const children = spans.filter((s) => s !== server);
    expect(children.map((s) => [s.name, s.kind]).sort()).toEqual(
      [
        ['AUDIT_QUEUE sendBatch', 4],
        ['RateLimiter.acquire', 3],
        ['logging', 1],
        ['rate_limit', 1],
        ['scoring', 1],
        ['validation', 1],
      ].sort(),
    );
    for (const c of children) {
      expect(c.traceId).toBe(TRACE);
      expect(c.parentSpanId).toBe(server.spanId);
      expect(BigInt(c.endTimeUnixNano) >= BigInt(c.startTimeUnixNano)).toBe(true);
    }
    const rpc = children.find((s) => s.name === 'RateLimiter.acquire')!;
    expect(attr(rpc, 'rpc.method')).toEqual({ stringValue: 'acquire' });
    expect([rpc.status.code, rpc.events]).toEqual([0, []]);
    // A lone request leads its isolate's audit producer: the packed send is its own span.
    const send = children.find((s) => s.name === 'AUDIT_QUEUE sendBatch')!;
    expect(attr(send, 'messaging.batch.message_count')).toEqual({ intValue: 1 });
  });

  it('shows a RateLimiter span only for the object calls a response waited for: none for a lease admission, none for lease upkeep', async () => {
    const collector = new Collector();
    const { key } = await createKey({
      name: 'otlp-leased',
      policy: { rate_limit: { limit: 100_000, window_s: 60 } },
    });
    const testEnv = envWith(collector);
    // A busy key: back-to-back requests make this isolate lease it. Every request is traced, so
    // upkeep (top-ups, returns) scheduled by any of them would land in some trace if it leaked.
    const calls = [];
    for (let i = 0; i < 40; i++) {
      const c = await call(checkReq(key), testEnv);
      expect(c.res.status).toBe(200);
      calls.push(c);
    }
    await Promise.all(calls.map((c) => c.done));

    const spans = await collector.spans();
    const servers = spans.filter((s) => s.kind === 2);
    expect(servers).toHaveLength(40);
    const rpcs = spans.filter((s) => s.name.startsWith('RateLimiter.'));
    const source = (s: OtlpSpan) => attr(s, 'vakt.rate_limit.source')?.stringValue;
    const bySource = { lease: 0, object: 0 } as Record<string, number>;
    for (const server of servers) {
      const own = rpcs.filter((r) => r.parentSpanId === server.spanId);
      const src = String(source(server));
      bySource[src] = (bySource[src] ?? 0) + 1;
      // A lease admission made no call; an object decision made exactly one, its acquire.
      expect(own.map((r) => r.name)).toEqual(src === 'lease' ? [] : ['RateLimiter.acquire']);
    }
    expect(bySource.lease).toBeGreaterThan(0);
    expect(bySource.lease! + bySource.object!).toBe(40);
    // Every RPC span belongs to a request that waited for it (no top-up, no release).
    expect(rpcs).toHaveLength(bySource.object!);
  });

  it('sends no input, no detected value and no key: planted values never reach the collector', async () => {
    const collector = new Collector();
    const { key } = await createKey({ name: 'otlp-planted' });
    const { res, done } = await call(
      checkReq(
        key,
        { 'X-Request-Id': `req-${FNR}`, 'User-Agent': EMAIL },
        `fnr ${FNR}, mail ${EMAIL}, card ${CARD}`,
      ),
      envWith(collector),
    );
    expect(res.status).toBe(200);
    await done;
    const raw = JSON.stringify(await collector.received());
    expect(raw).toContain('POST /v1/check');
    for (const planted of [FNR, EMAIL, CARD, key, key.slice(5)]) expect(raw).not.toContain(planted);
  });

  it('exports nothing for a caller that did not sample, and nothing without an endpoint', async () => {
    const collector = new Collector();
    const { key } = await createKey({ name: 'otlp-unsampled' });
    const before = otlpStats();
    const a = await call(
      checkReq(key, { traceparent: `00-${TRACE}-${PARENT}-00` }),
      envWith(collector),
    );
    await a.done;
    expect(a.res.headers.get('traceparent')).toMatch(/-00$/);
    const b = await call(checkReq(key), env);
    await b.done;
    expect(await collector.spans()).toEqual([]);
    expect(otlpStats().batches).toBe(before.batches);
  });

  it('batches concurrent requests into fewer POSTs and exports every span once', async () => {
    const collector = new Collector();
    const { key } = await createKey({ name: 'otlp-batch' });
    const testEnv = envWith(collector);
    const calls = await Promise.all(Array.from({ length: 12 }, () => call(checkReq(key), testEnv)));
    await Promise.all(calls.map((c) => c.done));
    const got = await collector.received();
    expect(got.errors).toEqual([]);
    const spans = await collector.spans();
    const servers = spans.filter((s) => s.kind === 2);
    expect(servers).toHaveLength(12);
    expect(new Set(servers.map((s) => s.traceId)).size).toBe(12);
    // Six spans of each request's own; the audit events of all twelve ride on packed sends, each
    // a span of the request that led the producer then — fewer sends than requests.
    const sends = spans.filter((s) => s.name === 'AUDIT_QUEUE sendBatch');
    expect(sends.length).toBeGreaterThanOrEqual(1);
    expect(sends.length).toBeLessThan(12);
    const traces = new Set(servers.map((s) => s.traceId));
    for (const send of sends) expect(traces.has(send.traceId)).toBe(true);
    expect(spans).toHaveLength(12 * 6 + sends.length);
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(spans.length);
    expect(got.payloads.length).toBeLessThan(12);
  });

  it('never delays a response: a held collector leaves the response as fast, and a failing one is counted', async () => {
    const collector = new Collector();
    const { key } = await createKey({ name: 'otlp-slow' });
    await collector.control('hold');
    const { res, done } = await call(checkReq(key), envWith(collector));
    // The response exists while the collector has not answered.
    expect(res.status).toBe(200);
    let settled = false;
    void done.then(() => (settled = true));
    await scheduler.wait(200);
    expect(settled).toBe(false);
    await collector.control('release');
    await done;

    const failing = new Collector();
    await failing.control('status?code=503');
    const before = otlpStats();
    const second = await call(checkReq(key), envWith(failing));
    expect(second.res.status).toBe(200);
    await second.done;
    expect(otlpStats().failed - before.failed).toBe(7);
  });

  it('marks a 500 as an error span with a scrubbed exception event', async () => {
    const collector = new Collector();
    const failingDb = new Proxy({} as D1Database, {
      get: () => () => {
        throw new Error(`D1_ERROR: insert failed for ${EMAIL}`);
      },
    });
    const { res, done } = await call(
      checkReq('vakt_' + 'z'.repeat(43)),
      envWith(collector, { DB: failingDb }),
    );
    expect(res.status).toBe(500);
    await done;
    const [server] = (await collector.spans()).filter((s) => s.kind === 2);
    expect(server?.status.code).toBe(2);
    const event = server?.events.find((e) => e.name === 'exception');
    expect(event?.attributes).toEqual(
      expect.arrayContaining([
        { key: 'exception.type', value: { stringValue: 'Error' } },
        { key: 'exception.message', value: { stringValue: 'D1_ERROR: insert failed for [EMAIL]' } },
      ]),
    );
  });
});
