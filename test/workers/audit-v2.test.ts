/**
 * Audit event v2 (issue 12): the keyed input hash and its rotation, v1 events still read,
 * identifier fields scrubbed before the queue, metadata keys that are Object.prototype names,
 * size-bounded D1 statements, and an async_logger_queue_size that recovers from a loss.
 */
import {
  createExecutionContext,
  createMessageBatch,
  env,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { consumeAuditBatch } from '../../src/audit/consumer';
import {
  AuditEventV2Schema,
  MAX_METADATA_VALUE_LENGTH,
  type AuditMessageBody,
} from '../../src/audit/event';
import { MAX_METADATA_KEYS } from '../../src/schemas/check';
import { MAX_STATEMENT_PAYLOAD_BYTES, payloadChunks, utf8Length } from '../../src/audit/store';
import { rowToEvent, toRow } from '../../src/audit/row';
import type { Env } from '../../src/env';
import { metrics } from '../../src/metrics/recorder';
import worker from '../../src/index';
import { BASE, createKey } from './helpers';
import { auditIds, clearAudit, makeEvent, message } from './audit-helpers';
import { sample, scrape, settleMetrics } from './metrics-helpers';

const KEY_1 = 'first-audit-hash-key-for-the-rotation-test';
const KEY_2 = 'second-audit-hash-key-after-the-rotation!';
const enc = new TextEncoder();

const hex = (b: ArrayBuffer) =>
  [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
async function hmac(secret: string, text: string): Promise<string> {
  const k = await crypto.subtle.importKey(
    'raw',
    enc.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return hex(await crypto.subtle.sign('HMAC', k, enc.encode(text)));
}
const sha256 = async (text: string) => hex(await crypto.subtle.digest('SHA-256', enc.encode(text)));
const keyId = async (secret: string) => (await hmac(secret, 'vakt audit key id')).slice(0, 16);

/** A queue binding that records every body and sends nothing. */
function capturingQueue() {
  const bodies: AuditMessageBody[] = [];
  const queue = {
    send: async (b: AuditMessageBody) => void bodies.push(b),
    sendBatch: async (msgs: Iterable<MessageSendRequest<AuditMessageBody>>) => {
      for (const m of msgs) bodies.push(m.body);
    },
  } as unknown as Queue<AuditMessageBody>;
  return { queue, bodies };
}

/** Runs /v1/check requests with `testEnv`, then hands what the producer sent to the consumer. */
async function decide(
  testEnv: Partial<Env>,
  bodies: unknown[],
  headers: Record<string, string> = {},
): Promise<{ ids: string[]; sent: string }> {
  const { key } = await createKey({ name: 'v2' });
  const q = capturingQueue();
  const ids: string[] = [];
  for (const body of bodies) {
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(BASE + '/v1/check', {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }),
      { ...env, AUDIT_QUEUE: q.queue, ...testEnv },
      ctx,
    );
    expect(res.status).toBe(200);
    ids.push((await res.json<{ decision_id: string }>()).decision_id);
    await waitOnExecutionContext(ctx);
  }
  await consumeAuditBatch(
    createMessageBatch(
      'vakt-audit',
      q.bodies.map((b) => message(b)),
    ),
    { db: env.DB, report: () => {} },
  );
  return { ids, sent: JSON.stringify(q.bodies) };
}

async function hashOf(id: string) {
  return env.DB.prepare(
    'SELECT v, input_hmac, input_hmac_key_id FROM audit_log WHERE decision_id = ?',
  )
    .bind(id)
    .first<{ v: number; input_hmac: string | null; input_hmac_key_id: string | null }>();
}

const check = (input: unknown, extra: Record<string, unknown> = {}) => ({
  model: 'gpt-4',
  operation: 'classify',
  input,
  ...extra,
});

describe('keyed input hash', () => {
  beforeEach(clearAudit);

  it('is an HMAC under AUDIT_HASH_KEY that cannot be recomputed without the key', async () => {
    const input = 'finn saken til pasient med fnr 01010012356';
    const { ids } = await decide({ AUDIT_HASH_KEY: KEY_1 }, [check(input)]);
    const row = await hashOf(ids[0]!);
    expect(row).toMatchObject({ v: 2, input_hmac_key_id: await keyId(KEY_1) });
    expect(row!.input_hmac).toBe(await hmac(KEY_1, input));
    // Whoever lacks the key gets nowhere: neither a plain SHA-256 nor another key matches.
    expect(row!.input_hmac).not.toBe(await sha256(input));
    expect(row!.input_hmac).not.toBe(await hmac(KEY_2, input));
    expect(row!.input_hmac).not.toBe(await hmac(KEY_1, input + ' '));
  });

  it('hashes chat input as its canonical JSON', async () => {
    const input = [{ content: 'hei', role: 'user' }];
    const { ids } = await decide({ AUDIT_HASH_KEY: KEY_1 }, [check(input)]);
    expect((await hashOf(ids[0]!))!.input_hmac).toBe(
      await hmac(KEY_1, '[{"content":"hei","role":"user"}]'),
    );
  });

  it('keeps rows written before a rotation verifiable with the old key id', async () => {
    const input = 'the same prompt before and after the rotation';
    const before = await decide({ AUDIT_HASH_KEY: KEY_1 }, [check(input)]);
    const after = await decide({ AUDIT_HASH_KEY: KEY_2 }, [check(input)]);
    const old = (await hashOf(before.ids[0]!))!;
    const now = (await hashOf(after.ids[0]!))!;
    expect(old.input_hmac_key_id).toBe(await keyId(KEY_1));
    expect(now.input_hmac_key_id).toBe(await keyId(KEY_2));
    expect(old.input_hmac_key_id).not.toBe(now.input_hmac_key_id);
    // The key id says which key verifies the row.
    const keys = new Map([
      [await keyId(KEY_1), KEY_1],
      [await keyId(KEY_2), KEY_2],
    ]);
    for (const r of [old, now])
      expect(r.input_hmac).toBe(await hmac(keys.get(r.input_hmac_key_id!)!, input));
    expect(old.input_hmac).not.toBe(now.input_hmac);
  });

  it('is omitted, never unkeyed, when no key is configured (production)', async () => {
    const input = 'no key configured here';
    const warn = vi.spyOn(console, 'warn');
    const { ids, sent } = await decide({ AUDIT_HASH_KEY: undefined, ENVIRONMENT: 'production' }, [
      check(input),
    ]);
    expect(await hashOf(ids[0]!)).toEqual({ v: 2, input_hmac: null, input_hmac_key_id: null });
    expect(sent).not.toContain('input_hmac');
    expect(sent).not.toContain(await sha256(input));
    expect(warn.mock.calls.flat().join('\n')).toContain('AUDIT_HASH_KEY is not set');
  });

  it('refuses a key shorter than 32 characters as a configuration error', async () => {
    const { key } = await createKey({ name: 'short-key' });
    const res = await worker.fetch(
      new Request(BASE + '/v1/check', {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(check('x')),
      }),
      { ...env, AUDIT_HASH_KEY: 'too-short' },
      createExecutionContext(),
    );
    expect(res.status).toBe(503);
    const problem = await res.text();
    expect(problem).toContain('/AUDIT_HASH_KEY');
    expect(problem).not.toContain('too-short');
  });
});

describe('v1 events from an older deployment', () => {
  beforeEach(clearAudit);

  it('are still written, without their unkeyed input_sha256', async () => {
    const sha = 'c'.repeat(64);
    const { input_hmac: _h, input_hmac_key_id: _k, ...rest } = makeEvent();
    const v1 = { ...rest, v: 1, input_sha256: sha };
    const summary = await consumeAuditBatch(createMessageBatch('vakt-audit', [message(v1)]), {
      db: env.DB,
      report: () => {},
    });
    expect(summary.written).toBe(1);
    const row = await env.DB.prepare('SELECT * FROM audit_log WHERE decision_id = ?')
      .bind(v1.decision_id)
      .first();
    expect(row).toMatchObject({ v: 1, input_hmac: null, input_hmac_key_id: null });
    expect(JSON.stringify(row)).not.toContain(sha);
  });
});

describe('identifier fields', () => {
  beforeEach(clearAudit);
  afterEach(() => vi.restoreAllMocks());

  const PLANTED = ['01010012356', '4111111111111111'];

  it('are scrubbed before the queue: request id, model, operation, metadata keys and values', async () => {
    const { ids, sent } = await decide(
      {},
      [
        check('hello', {
          model: 'gpt-4 fnr 01010012356',
          operation: 'card-4111111111111111',
          metadata: {
            req_01010012356: 'card-4111111111111111',
            ref: 'req_01010012356',
            note: 'gpt-4 fnr 01010012356',
          },
        }),
      ],
      { 'X-Request-Id': 'req_01010012356' },
    );
    for (const p of PLANTED) expect(sent).not.toContain(p);
    const row = await env.DB.prepare(
      'SELECT request_id, model, operation, metadata FROM audit_log WHERE decision_id = ?',
    )
      .bind(ids[0])
      .first<Record<string, string>>();
    for (const p of PLANTED) expect(JSON.stringify(row)).not.toContain(p);
    expect(row!.model).toBe('gpt-4 fnr [NO_FODSELSNUMMER]');
    expect(row!.operation).toMatch(/^card-\[(PAYMENT_CARD|NUMBER)\]$/);
    expect(Object.keys(JSON.parse(row!.metadata!) as object)).toContainEqual(
      expect.stringMatching(/^req_\[(NO_FODSELSNUMMER|NUMBER)\]$/),
    );
  });

  it('keep metadata keys named like Object.prototype members', async () => {
    const metadata = { toString: 'a', valueOf: 1, hasOwnProperty: true, isPrototypeOf: 'x' };
    const { ids } = await decide({}, [check('hi', { metadata })]);
    const e = makeEvent({ metadata: { ...metadata, valueOf: 'v', propertyIsEnumerable: 2 } });
    await consumeAuditBatch(createMessageBatch('vakt-audit', [message(e)]), {
      db: env.DB,
      report: () => {},
    });
    const meta = async (id: string) =>
      JSON.parse(
        (await env.DB.prepare('SELECT metadata FROM audit_log WHERE decision_id = ?')
          .bind(id)
          .first<{ metadata: string }>())!.metadata,
      ) as unknown;
    expect(await meta(ids[0]!)).toEqual(metadata);
    expect(await meta(e.decision_id)).toEqual(e.metadata);
  });
});

describe('D1 statement size', () => {
  beforeEach(clearAudit);

  /** The most metadata an event carries: 32 values of 1,024 characters (≈ 33 KB). */
  const bigMetadata = () =>
    Object.fromEntries(
      Array.from({ length: MAX_METADATA_KEYS }, (_, i) => [
        `k${i}`,
        'x'.repeat(MAX_METADATA_VALUE_LENGTH),
      ]),
    );

  // 80 of them (≈ 2.7 MB) are more than one D1 statement may carry.
  it('writes 80 events with the most metadata each (≈ 33 KB) in one transaction of bounded statements', async () => {
    const events = Array.from({ length: 80 }, () => makeEvent({ metadata: bigMetadata() }));
    const chunks = payloadChunks(events.map(toRow));
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(utf8Length(c)).toBeLessThanOrEqual(MAX_STATEMENT_PAYLOAD_BYTES);
    expect(chunks.map((c) => (JSON.parse(c) as unknown[]).length).reduce((a, b) => a + b)).toBe(80);

    // The old single statement is what D1 refuses (SQLITE_TOOBIG) …
    const [whole] = payloadChunks(events.map(toRow), Infinity);
    await expect(env.DB.prepare('SELECT json_array_length(?1)').bind(whole).run()).rejects.toThrow(
      /SQLITE_TOOBIG/,
    );

    // … the consumer's bounded statements are not: no fallback to row-by-row inserts.
    const warn = vi.spyOn(console, 'warn');
    const summary = await consumeAuditBatch(
      createMessageBatch(
        'vakt-audit',
        events.map((e) => message(e)),
      ),
      { db: env.DB, report: () => {} },
    );
    expect(summary.written).toBe(80);
    expect(warn.mock.calls.flat().join('\n')).not.toContain('isolating');
    expect(await auditIds()).toEqual(events.map((e) => e.decision_id).sort());
    // ≈ 2.7 MB through D1: seconds on a loaded machine.
  }, 30_000);

  it('measures UTF-8 length like TextEncoder', () => {
    for (const s of ['abc', 'æøå', '€', '😀x', 'a\u0800b'])
      expect(utf8Length(s)).toBe(enc.encode(s).length);
  });
});

describe('async_logger_queue_size', () => {
  it('recovers: events lost without a trace an hour ago no longer count', async () => {
    await settleMetrics();
    const gauge = async () => sample(await scrape(), 'async_logger_queue_size') ?? NaN;
    const before = await gauge();
    // 900 events sent two hours ago that nothing ever wrote or dropped (an isolate died), and
    // 3 sent just now that are still in flight.
    metrics.backlog(Date.now() - 2 * 3600_000, { sent: 900 });
    metrics.backlog(Date.now(), { sent: 3 });
    await settleMetrics();
    expect(await gauge()).toBe(before + 3);
    // Once they are written the gauge is back where it was.
    metrics.backlog(Date.now(), { resolved: 3 });
    await settleMetrics();
    expect(await gauge()).toBe(before);
  });
});

describe('token fields (issue 16)', () => {
  const usageEvent = (over: Record<string, unknown> = {}) =>
    makeEvent({
      kind: 'usage',
      outcome: 'usage',
      allowed: false,
      input_decision_id: crypto.randomUUID(),
      usage: { output_tokens: 12, input_tokens: 3, charged: true },
      ...over,
    });

  it('round-trips a usage event and a token refusal through the row', () => {
    for (const e of [
      usageEvent(),
      makeEvent({
        outcome: 'token_limited',
        allowed: false,
        usage: { counted_tokens: 40, tokenizer: 'o200k_base', charged: false },
      }),
    ]) {
      expect(AuditEventV2Schema.safeParse(e).success).toBe(true);
      expect(rowToEvent(toRow(e))).toEqual(e);
    }
    // An event without the fields (older v2) still reads back without them.
    const plain = makeEvent();
    expect(rowToEvent(toRow(plain))).toEqual(plain);
  });

  it.each([
    ['a usage event without its decision', { input_decision_id: undefined }],
    ['a usage event with a decision outcome', { outcome: 'allowed', allowed: true }],
    ['a decision with the usage outcome', { kind: undefined }],
    ['a usage figure that is not a count', { usage: { output_tokens: -1 } }],
    ['an unknown usage field', { usage: { output_tokens: 1, text: 'x' } }],
  ])('rejects %s', (_name, over) => {
    expect(AuditEventV2Schema.safeParse(usageEvent(over)).success).toBe(false);
  });
});
