/**
 * Test side of the local Sentry sink (test/node/support/sentry-sink.ts, started by globalSetup):
 * a fresh DSN project per test, and the envelopes it received, parsed.
 */
import { inject } from 'vitest';

/** One parsed envelope item: its header (`type`, ...) and its JSON payload. */
export interface EnvelopeItem {
  header: { type?: string; [k: string]: unknown };
  payload: SentryEventPayload;
}

/** The fields of a Sentry event payload the tests assert on. */
export interface SentryEventPayload {
  event_id?: string;
  level?: string;
  message?: string;
  environment?: string;
  release?: string;
  transaction?: string;
  tags?: Record<string, string>;
  extra?: Record<string, unknown>;
  contexts?: Record<string, unknown>;
  breadcrumbs?: { message?: string; data?: Record<string, unknown> }[];
  request?: Record<string, unknown>;
  user?: unknown;
  exception?: { values?: { type?: string; value?: string }[] };
}

export interface Envelope {
  raw: string;
  header: Record<string, unknown>;
  items: EnvelopeItem[];
}

/** Parses newline-delimited JSON: envelope header, then item header + payload pairs. */
export function parseEnvelope(raw: string): Envelope {
  const lines = raw.split('\n').filter((l) => l.length > 0);
  const header = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
  const items: EnvelopeItem[] = [];
  for (let i = 1; i + 1 < lines.length; i += 2) {
    items.push({
      header: JSON.parse(lines[i]!) as EnvelopeItem['header'],
      payload: JSON.parse(lines[i + 1]!) as SentryEventPayload,
    });
  }
  return { raw, header, items };
}

export class SentryProject {
  readonly id: number;
  readonly dsn: string;
  readonly #base: string;

  constructor(port = inject('sentrySinkPort')) {
    // Random numeric project ids keep test files (which share one sink) apart.
    this.id = 100_000 + (crypto.getRandomValues(new Uint32Array(1))[0]! % 900_000_000);
    this.#base = `http://127.0.0.1:${port}`;
    this.dsn = `http://public@127.0.0.1:${port}/${this.id}`;
  }

  /** Raw envelope bodies received so far. */
  async raw(): Promise<string[]> {
    const res = await fetch(`${this.#base}/__sink/envelopes/${this.id}`);
    return res.json();
  }

  async envelopes(): Promise<Envelope[]> {
    return (await this.raw()).map(parseEnvelope);
  }

  /** Event payloads (items of type `event`) received so far. */
  async events(): Promise<SentryEventPayload[]> {
    return (await this.envelopes()).flatMap((e) =>
      e.items.filter((i) => i.header.type === 'event').map((i) => i.payload),
    );
  }

  /** Make the envelope endpoint answer with `status` from now on. */
  async answerWith(status: number): Promise<void> {
    await this.#control(`status/${this.id}?code=${status}`);
  }

  /** Hold envelope responses until `release()` (a slow Sentry). */
  async hold(): Promise<void> {
    await this.#control(`hold/${this.id}`);
  }

  /** Answers held requests; returns how many were waiting. */
  async release(): Promise<number> {
    const body = await this.#control(`release/${this.id}`);
    return (body as { released: number }).released;
  }

  async #control(path: string): Promise<unknown> {
    const res = await fetch(`${this.#base}/__sink/${path}`, { method: 'POST' });
    if (!res.ok) throw new Error(`sink control ${path}: ${res.status}`);
    return res.json();
  }
}
