/**
 * Caller-chosen strings that vakt stores, lists or logs although they are not the checked text:
 * `model`, `operation`, metadata values, API key names and the policy's model patterns and
 * operations. Each hostile shape must be refused with a problem naming the field, and the
 * planted value must never come back (body or headers). docs/api.md, "Identifier fields".
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { waitFor } from './audit-helpers';
import { admin, check, createKey } from './helpers';

interface Problem {
  type: string;
  status: number;
  errors?: { path: string; message: string }[];
}

const valid = { model: 'gpt-4', operation: 'classify', input: 'hei' };

/** The whole response as text: status line, headers and body. */
async function whole(res: Response): Promise<string> {
  return [String(res.status), ...[...res.headers].map(([k, v]) => `${k}: ${v}`), await res.text()]
    .join('\n')
    .normalize();
}

async function refused(res: Response, path: string, message: RegExp, planted: string) {
  const text = await whole(res.clone());
  expect(res.status).toBe(400);
  const p = (await res.json()) as Problem;
  expect(p.type).toBe('urn:vakt:problem:validation-error');
  expect(p.errors).toContainEqual({ path, message: expect.stringMatching(message) });
  expect(text).not.toContain(planted);
}

const INVISIBLE = /control characters or invisible formatting characters/;
const PERSONAL = /personal data/;

describe('identifier fields refuse control and invisible characters', () => {
  // Each value hides a marker that must not come back.
  const M = 'zqxMARKq';
  it.each([
    ['a NUL in the model', { model: `gpt-4\u0000${M}` }, '/model'],
    ['an ANSI escape in the model', { model: `gpt-4\u001b[31m${M}` }, '/model'],
    ['a newline in the model (log-line injection)', { model: `gpt-4\n${M}` }, '/model'],
    ['a C1 control in the model', { model: `gpt-4\u0085${M}` }, '/model'],
    ['a bidi override in the model', { model: `gpt-4\u202e${M}` }, '/model'],
    ['a zero-width space in the model', { model: `gpt-4\u200b${M}` }, '/model'],
    ['a BOM in the model', { model: `\ufeffgpt-4${M}` }, '/model'],
    ['a line separator in the operation', { operation: `classify\u2028${M}` }, '/operation'],
    ['a carriage return in the operation', { operation: `classify\r${M}` }, '/operation'],
    ['a tab in a metadata value', { metadata: { ref: `a\t${M}` } }, '/metadata/ref'],
    [
      'a soft hyphen in a metadata value',
      { metadata: { ref: `0101001\u00ad${M}` } },
      '/metadata/ref',
    ],
  ])('%s', async (_what, fields, path) => {
    const { key } = await createKey();
    await refused(await check(key, { ...valid, ...fields }), path, INVISIBLE, M);
  });

  it('still accepts ordinary identifiers: non-ASCII letters, emoji, spaces, dates in model ids', async () => {
    const { key } = await createKey();
    for (const fields of [
      { model: 'claude-3-5-sonnet-20241022' },
      { model: '@cf/meta/llama-3.1-8b-instruct' },
      { model: 'Mistral Large (EU)' },
      { metadata: { team: 'Økonomi og lønn', mood: '😀👩‍💻', n: 3, ok: true } },
    ]) {
      const res = await check(key, { ...valid, ...fields });
      expect(res.status, JSON.stringify(fields)).toBe(200);
    }
  });
});

describe('API key names and policy fields', () => {
  it.each([
    ['a person', 'Kari Nordmann', '/name', PERSONAL],
    ['an e-mail address', 'kari.nordmann@example.no', '/name', PERSONAL],
    ['a fødselsnummer', 'laptop 01010012356', '/name', PERSONAL],
    ['a card number', 'card 4111111111111111', '/name', PERSONAL],
    ['a long number', 'key 123456789012', '/name', PERSONAL],
    ['a control character', 'billing\u001b[2J', '/name', INVISIBLE],
  ])('refuses a key name carrying %s, on create and on update', async (_what, name, path, msg) => {
    const planted = name.replace(/^(laptop|card|key) /, '').replace('\u001b', '');
    await refused(
      await admin('/admin/keys', { method: 'POST', body: JSON.stringify({ name }) }),
      path,
      msg,
      planted,
    );
    const { id } = await createKey({ name: 'billing-service' });
    await refused(
      await admin(`/admin/keys/${id}`, { method: 'PATCH', body: JSON.stringify({ name }) }),
      path,
      msg,
      planted,
    );
  });

  it.each([
    ['an operation', { operations: ['classify', 'fnr-01010012356'] }, '/policy/operations/1'],
    ['a model pattern', { models: ['gpt-*', 'kari.nordmann@example.no'] }, '/policy/models/1'],
    ['a model pattern with a long number', { models: ['ft-123456789012*'] }, '/policy/models/0'],
  ])('refuses personal data in %s of a policy', async (_what, policy, path) => {
    const planted = JSON.stringify(policy).match(
      /01010012356|kari\.nordmann@example\.no|123456789012/,
    )![0];
    await refused(
      await admin('/admin/keys', {
        method: 'POST',
        body: JSON.stringify({ name: 'p', policy }),
      }),
      path,
      PERSONAL,
      planted,
    );
  });

  it('keeps ordinary names and policies', async () => {
    const created = await createKey({
      name: 'Team Oslo – support bot 2',
      policy: {
        models: ['gpt-4o*', 'claude-3-5-sonnet-20241022'],
        operations: ['classify', 'chat'],
      },
    });
    expect(created.name).toBe('Team Oslo – support bot 2');
  });
});

describe('huge strings are refused by size, never echoed', () => {
  const big = 'kari.nordmann@example.no '.repeat(4_000); // 100 KB
  it.each([
    ['model', { model: big }, '/model'],
    ['operation', { operation: big }, '/operation'],
    ['a metadata value', { metadata: { ref: big } }, '/metadata/ref'],
  ])('%s of 100 KB', async (_what, fields, path) => {
    const { key } = await createKey();
    await refused(await check(key, { ...valid, ...fields }), path, /Too big/, 'kari.nordmann');
  });

  it('a key name of 100 KB', async () => {
    await refused(
      await admin('/admin/keys', { method: 'POST', body: JSON.stringify({ name: big }) }),
      '/name',
      /Too big/,
      'kari.nordmann',
    );
  });

  it('headers of 100 KB are replaced or ignored, never echoed', async () => {
    const { key } = await createKey();
    const res = await check(key, valid, {
      'X-Request-Id': 'r'.repeat(100_000),
      traceparent: '00-' + '1'.repeat(100_000),
      tracestate: 'v=' + 'x'.repeat(100_000),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    expect(res.headers.get('tracestate')).toBeNull();
  });
});

describe('/admin/audit query parameters never echo what they carry', () => {
  const FNR = '01010012356';
  it.each([
    [`since=${FNR}`, '/since'],
    [`until=kari%40example.no`, '/until'],
    [`limit=${FNR}`, '/limit'],
    [`key_id=${FNR}`, '/key_id'],
    [`reason=${FNR}`, '/reason'],
    [`cursor=${encodeURIComponent(btoa(JSON.stringify([FNR, FNR])))}`, '/cursor'],
  ])('%s', async (query, path) => {
    const res = await admin(`/admin/audit?${query}`);
    const text = await whole(res.clone());
    expect(res.status).toBe(400);
    const p = (await res.json()) as Problem;
    expect(p.errors?.map((e) => e.path)).toContain(path);
    expect(text).not.toContain(FNR);
    expect(text).not.toContain('kari');
  });
});

describe('metadata numbers', () => {
  it('never store a national id or card number sent as a JSON number in the audit log', async () => {
    const { key } = await createKey();
    const res = await check(key, {
      ...valid,
      metadata: {
        card: 4111111111111111,
        fnr: 15038512363,
        negative: -15038512363,
        exponent: 1.5038512363e10,
        small: 42,
        ratio: 0.5,
        year: 2026,
      },
    });
    expect(res.status).toBe(200);
    const { decision_id } = await res.json<{ decision_id: string }>();
    const row = () =>
      env.DB.prepare('SELECT metadata FROM audit_log WHERE decision_id = ?')
        .bind(decision_id)
        .first<{ metadata: string }>();
    await waitFor(async () => (await row()) !== null);
    const stored = JSON.parse((await row())!.metadata) as Record<string, unknown>;
    const text = JSON.stringify(stored);
    for (const planted of ['4111111111111111', '15038512363']) expect(text).not.toContain(planted);
    // Long numbers are kept as what they are ("a number was here"), short ones unchanged.
    expect(stored).toMatchObject({ small: 42, ratio: 0.5, year: 2026 });
    for (const k of ['card', 'fnr', 'negative', 'exponent'])
      expect(stored[k]).toMatch(/^-?\[[A-Z_]+\]$/);
  });
});

describe('disguised identifiers in caller fields', () => {
  it('reach the audit log in no form: full-width digits, thin spaces, glued prefixes', async () => {
    const { key } = await createKey({ name: 'disguised', policy: { models: ['*'] } });
    const bodies = [
      { model: 'gpt-4 ０１０１００１２３５６' },
      { model: 'gpt-4 010100\u200912356' },
      { model: 'gpt-4 req_01010012356' },
      { model: 'llm 99999999999', operation: 'ref 12345678901' },
      { operation: 'classify-01010012356' },
      { metadata: { ref: '０１０１００１２３５６', card: '4111\u00a01111\u00a01111\u00a01111' } },
      { metadata: { ref: 'kunde 99999999999' } },
    ];
    const ids: string[] = [];
    for (const fields of bodies) {
      const res = await check(key, { ...valid, ...fields });
      expect(res.status, JSON.stringify(fields)).toBe(200);
      ids.push((await res.json<{ decision_id: string }>()).decision_id);
    }
    const rows = async () =>
      (
        await env.DB.prepare(
          `SELECT model, operation, metadata FROM audit_log WHERE decision_id IN (${ids.map(() => '?').join(',')})`,
        )
          .bind(...ids)
          .all()
      ).results;
    await waitFor(async () => (await rows()).length === ids.length);
    // Folded: NFKC (full-width → ASCII), separators removed.
    const folded = JSON.stringify(await rows())
      .normalize('NFKC')
      .replace(/[\s\u00a0\u2009._-]|\\u[0-9a-f]{4}/g, '');
    for (const planted of ['01010012356', '4111111111111111', '99999999999', '12345678901'])
      expect(folded).not.toContain(planted);
  });
});

describe('metadata keys that name Object members', () => {
  const names = ['toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf'];
  const stored = async (decisionId: string) => {
    const row = () =>
      env.DB.prepare('SELECT metadata FROM audit_log WHERE decision_id = ?')
        .bind(decisionId)
        .first<{ metadata: string }>();
    await waitFor(async () => (await row()) !== null);
    return Object.entries(JSON.parse((await row())!.metadata) as object);
  };

  it('are stored like any other key (a `__proto__` beside them is no 5xx)', async () => {
    const { key } = await createKey();
    const metadata = Object.fromEntries(names.map((n, i) => [n, `v${i}`]));
    // Spliced in raw: an object literal's `__proto__` would set the prototype, not a key.
    const body = JSON.stringify({ ...valid, metadata }).replace(/\}\}$/, ',"__proto__":"p"}}');
    const res = await check(key, body);
    expect(res.status, await res.clone().text()).toBe(200);
    const { decision_id } = await res.json<{ decision_id: string }>();
    // The validator drops `__proto__` (Zod builds records by assignment); the rest is kept.
    expect(await stored(decision_id)).toEqual(names.map((n, i) => [n, `v${i}`]));
  });
});
