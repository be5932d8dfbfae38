/**
 * A local HTTP server standing in for Sentry's ingestion endpoint, for the workers tests.
 *
 * toucan-js posts envelopes to `POST /api/<project>/envelope/` of the DSN's host. The sink keeps
 * every envelope body per project id, so each test uses its own DSN project id and reads back
 * exactly what it sent. Control routes (`/__sink/...`) let a test read envelopes, make a project
 * answer with an error status, or hold its responses to simulate a slow Sentry.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SentrySink {
  port: number;
  close(): Promise<void>;
}

interface Project {
  envelopes: string[];
  /** Status the envelope endpoint answers with (200 unless a test asks for a failure). */
  status: number;
  /** When set, envelope requests wait here until the test releases them. */
  held: ServerResponse[] | null;
}

const MAX_BODY_BYTES = 1024 * 1024;

export async function startSentrySink(): Promise<SentrySink> {
  const projects = new Map<string, Project>();
  const project = (id: string): Project => {
    let p = projects.get(id);
    if (!p) {
      p = { envelopes: [], status: 200, held: null };
      projects.set(id, p);
    }
    return p;
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sink');
    const envelope = /^\/api\/(\d+)\/envelope\/$/.exec(url.pathname);
    if (envelope && req.method === 'POST') {
      const p = project(envelope[1]!);
      p.envelopes.push(await readBody(req));
      if (p.held) p.held.push(res);
      else reply(res, p.status);
      return;
    }
    const control = /^\/__sink\/(envelopes|status|hold|release)\/(\d+)$/.exec(url.pathname);
    if (control) {
      const [, action, id] = control;
      const p = project(id!);
      switch (action) {
        case 'envelopes':
          return json(res, p.envelopes);
        case 'status':
          p.status = Number(url.searchParams.get('code') ?? '200');
          return json(res, { status: p.status });
        case 'hold':
          p.held ??= [];
          return json(res, { held: true });
        case 'release': {
          const waiting = p.held ?? [];
          p.held = null;
          for (const r of waiting) reply(r, p.status);
          return json(res, { released: waiting.length });
        }
      }
    }
    res.writeHead(404).end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => closeServer(server, projects),
  };
}

/** A port on 127.0.0.1 with nothing listening (bound once, then released). */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function reply(res: ServerResponse, status: number): void {
  // Sentry answers an accepted envelope with 200 and the event id; the body is not read by toucan.
  res.writeHead(status, { 'Content-Type': 'application/json' }).end('{}');
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new Error('envelope too large');
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function closeServer(server: Server, projects: Map<string, Project>): Promise<void> {
  for (const p of projects.values()) for (const r of p.held ?? []) r.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** The event payloads a project of a sink received (read through the control route). */
export async function sentryEvents(
  port: number,
  project: number,
): Promise<
  Array<{ tags?: Record<string, string>; contexts?: Record<string, unknown>; transaction?: string }>
> {
  const res = await fetch(`http://127.0.0.1:${port}/__sink/envelopes/${project}`);
  const envelopes = (await res.json()) as string[];
  const events = [];
  for (const raw of envelopes) {
    const lines = raw.split('\n').filter(Boolean);
    for (let i = 1; i + 1 < lines.length; i += 2) {
      if ((JSON.parse(lines[i]!) as { type?: string }).type === 'event')
        events.push(JSON.parse(lines[i + 1]!));
    }
  }
  return events;
}
