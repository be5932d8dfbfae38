/**
 * A local OTLP/HTTP collector for the tests: accepts `POST <base>/v1/traces` with a JSON body,
 * validates every payload against the official OTLP protocol definitions (./otlp-validate.ts) and
 * keeps it, per base path, so each test uses its own endpoint (`http://127.0.0.1:<port>/<id>`).
 * Control routes: `GET /__otlp/<id>` returns `{ payloads, errors, requests }`;
 * `POST /__otlp/<id>/status?code=503` makes that endpoint answer with an error; `…/hold` and
 * `…/release` hold responses to simulate a slow collector.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateOtlpTraces } from './otlp-validate';

interface Endpoint {
  payloads: unknown[];
  errors: string[];
  /** Content types of the requests received. */
  requests: Array<{ contentType: string; headers: Record<string, string> }>;
  status: number;
  held: ServerResponse[] | null;
}

export interface OtlpSink {
  port: number;
  close(): Promise<void>;
}

export async function startOtlpSink(): Promise<OtlpSink> {
  const endpoints = new Map<string, Endpoint>();
  const endpoint = (id: string) => {
    let e = endpoints.get(id);
    if (!e)
      endpoints.set(id, (e = { payloads: [], errors: [], requests: [], status: 200, held: null }));
    return e;
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sink');
    const traces = /^\/([\w-]+)\/v1\/traces$/.exec(url.pathname);
    if (traces && req.method === 'POST') {
      const e = endpoint(traces[1]!);
      const contentType = req.headers['content-type'] ?? '';
      e.requests.push({
        contentType,
        headers: Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [
            k,
            Array.isArray(v) ? v.join(',') : (v ?? ''),
          ]),
        ),
      });
      const body = await readBody(req);
      let payload: unknown;
      try {
        payload = JSON.parse(body);
      } catch {
        e.errors.push('body is not JSON');
      }
      if (payload !== undefined) {
        if (contentType !== 'application/json') e.errors.push(`content-type ${contentType}`);
        e.errors.push(...validateOtlpTraces(payload));
        e.payloads.push(payload);
      }
      if (e.held) e.held.push(res);
      else reply(res, e.status);
      return;
    }
    const control = /^\/__otlp\/([\w-]+)(?:\/(status|hold|release))?$/.exec(url.pathname);
    if (control) {
      const e = endpoint(control[1]!);
      switch (control[2]) {
        case undefined:
          return json(res, { payloads: e.payloads, errors: e.errors, requests: e.requests });
        case 'status':
          e.status = Number(url.searchParams.get('code') ?? '200');
          return json(res, { status: e.status });
        case 'hold':
          e.held ??= [];
          return json(res, { held: true });
        case 'release': {
          const waiting = e.held ?? [];
          e.held = null;
          for (const r of waiting) reply(r, e.status);
          return json(res, { released: waiting.length });
        }
      }
    }
    res.writeHead(404).end();
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const e of endpoints.values()) for (const r of e.held ?? []) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function reply(res: ServerResponse, status: number): void {
  // An OTLP/HTTP success is an ExportTraceServiceResponse; `{}` is the full success.
  res.writeHead(status, { 'Content-Type': 'application/json' }).end('{}');
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
