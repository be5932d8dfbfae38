import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { admin, BASE, check, createKey } from './helpers';

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
}

async function problem(res: Response, status: number): Promise<Problem> {
  expect(res.status).toBe(status);
  expect(res.headers.get('Content-Type')).toBe('application/problem+json');
  expect(res.headers.get('X-Request-Id')).toBeTruthy();
  const body = (await res.json()) as Problem;
  expect(body).toMatchObject({ status, type: expect.stringMatching(/^urn:vakt:problem:/) });
  expect(body.title).toBeTruthy();
  expect(body.detail).toBeTruthy();
  return body;
}

const valid = { model: 'gpt-4', operation: 'classify', input: 'hello' };

describe('request validation on /v1/check', () => {
  it.each([
    ['a missing field', { model: 'gpt-4', input: 'x' }, '/operation'],
    ['a wrong type', { ...valid, model: 42 }, '/model'],
    ['an unknown field', { ...valid, temperature: 0.2 }, '/'],
    ['an empty model', { ...valid, model: '' }, '/model'],
    ['a bad chat role', { ...valid, input: [{ role: 'robot', content: 'x' }] }, '/input/0/role'],
    ['an empty chat', { ...valid, input: [] }, '/input'],
    ['nested metadata', { ...valid, metadata: { a: { b: 1 } } }, '/metadata/a'],
    ['a long metadata value', { ...valid, metadata: { a: 'x'.repeat(257) } }, '/metadata/a'],
  ])('rejects %s with a problem naming the field', async (_name, body, path) => {
    const { key } = await createKey();
    const p = await problem(await check(key, body), 400);
    expect(p.type).toBe('urn:vakt:problem:validation-error');
    expect(p.errors?.map((e) => e.path)).toContain(path);
  });

  it('rejects malformed JSON with 400 and does not echo it', async () => {
    const { key } = await createKey();
    const p = await problem(await check(key, '{"model": "gpt-4", "input": "01010012356'), 400);
    expect(JSON.stringify(p)).not.toContain('01010012356');
  });

  it('rejects a non-JSON content type with 415', async () => {
    const { key } = await createKey();
    const res = await SELF.fetch(BASE + '/v1/check', {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'text/plain' },
      body: 'hello',
    });
    await problem(res, 415);
  });

  it('rejects a body over MAX_BODY_BYTES with 413', async () => {
    const { key } = await createKey();
    const p = await problem(await check(key, { ...valid, input: 'x'.repeat(300 * 1024) }), 413);
    expect(p.type).toBe('urn:vakt:problem:payload-too-large');
  });

  it('never shows submitted values in validation errors', async () => {
    const { key } = await createKey();
    const res = await check(key, { ...valid, model: 'ola@example.no'.repeat(20) });
    expect(await res.text()).not.toContain('ola@example.no');
  });
});

/** A JSON body with `value` spliced in raw (so `\\udc00` stays an escape JSON.stringify would also write). */
const rawBody = (fields: string) => `{"operation":"classify","input":"hello",${fields}}`;

describe('well-formed strings (one rule for every route)', () => {
  it('refuses the model "gpt-4\\udc00" (a lone surrogate) with a 400 naming /model', async () => {
    const { key } = await createKey();
    const res = await check(key, { ...valid, model: 'gpt-4\udc00' });
    const text = await res.clone().text();
    const p = await problem(res, 400);
    expect(p.type).toBe('urn:vakt:problem:validation-error');
    expect(p.errors).toEqual([
      { path: '/model', message: expect.stringMatching(/not well-formed UTF-16/) },
    ]);
    expect(text).not.toMatch(/gpt-4/);
  });

  it.each([
    ['an operation', { ...valid, operation: 'classify\ud800' }, ['/operation']],
    ['the input', { ...valid, input: '\udfffhei' }, ['/input']],
    [
      'a chat message',
      { ...valid, input: [{ role: 'user', content: 'a\ud83d' }] },
      ['/input/0/content'],
    ],
    ['a metadata value', { ...valid, metadata: { ref: 'x\udc00' } }, ['/metadata/ref']],
    [
      'a metadata key, and a value, reported in document order',
      { ...valid, metadata: { 'k\udc00': 'ok', b: '\ud800' } },
      ['/metadata/k\ufffd', '/metadata/b'],
    ],
    ['an unknown field', { ...valid, 'x\udc00': 1 }, ['/x\ufffd']],
    // Governance v2 shapes: the pointer goes all the way into the part, as for union errors.
    [
      'an OpenAI content part',
      {
        ...valid,
        input: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'ok' },
              { type: 'text', text: 'b\ud800' },
            ],
          },
        ],
      },
      ['/input/0/content/1/text'],
    ],
    [
      'OpenAI tool-call arguments',
      {
        ...valid,
        input: [
          { role: 'user', content: 'hei' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'c1', type: 'function', function: { name: 'f', arguments: '{"q":"\udc00"}' } },
            ],
          },
        ],
      },
      ['/input/1/tool_calls/0/function/arguments'],
    ],
    [
      'an Anthropic tool_result nested text block',
      {
        ...valid,
        input: [
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 't1',
                content: [{ type: 'text', text: '\udfff' }],
              },
            ],
          },
        ],
      },
      ['/input/0/content/0/content/0/text'],
    ],
    [
      'an Anthropic tool_use input key',
      {
        ...valid,
        input: [
          {
            role: 'assistant',
            content: [{ type: 'tool_use', id: 't1', name: 'lookup', input: { 'q\udc00': 'x' } }],
          },
        ],
      },
      ['/input/0/content/0/input/q\ufffd'],
    ],
    [
      'an output choice',
      {
        model: 'gpt-4',
        operation: 'chat',
        output: [{ index: 0, message: { role: 'assistant', content: 'svar\ud800' } }],
      },
      ['/output/0/message/content'],
    ],
  ])('refuses %s that is not well-formed', async (_what, body, paths) => {
    const { key } = await createKey();
    const p = await problem(await check(key, body), 400);
    expect(p.errors?.map((e) => e.path)).toEqual(paths);
    for (const e of p.errors ?? []) expect(e.message).toMatch(/not well-formed/);
  });

  it('accepts a surrogate pair written as escapes (an emoji from a client that escapes non-ASCII)', async () => {
    const { key } = await createKey();
    const res = await check(key, rawBody('"model":"gpt-4","metadata":{"mood":"\\ud83d\\ude00"}'));
    expect(res.status).toBe(200);
  });

  it('answers a deeply nested body with a lone surrogate with a 400, not a crash', async () => {
    const { key } = await createKey();
    const deep = '['.repeat(50_000) + '"\\udc00"' + ']'.repeat(50_000);
    const p = await problem(await check(key, rawBody(`"model":"gpt-4","metadata":${deep}`)), 400);
    expect(p.errors?.[0]?.path).toMatch(/^\/metadata(\/0)+\/…$/);
  });

  it('refuses a body whose bytes are not UTF-8 instead of replacing them', async () => {
    const { key } = await createKey();
    const head = new TextEncoder().encode('{"model":"gpt-4');
    const tail = new TextEncoder().encode('","operation":"classify","input":"x"}');
    const body = new Uint8Array([...head, 0xed, 0xb0, 0x80, ...tail]);
    const res = await SELF.fetch(BASE + '/v1/check', {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body,
    });
    const p = await problem(res, 400);
    expect(p.errors).toEqual([{ path: '/', message: 'the request body is not well-formed UTF-8' }]);
  });

  it('refuses admin bodies, query and path parameters that are not well-formed', async () => {
    const created = await admin('/admin/keys', {
      method: 'POST',
      body: JSON.stringify({ name: 'billing\udc00' }),
    });
    expect((await problem(created, 400)).errors?.map((e) => e.path)).toEqual(['/name']);
    const query = await problem(await admin('/admin/audit?limit=5&cursor=%ED%B0%80'), 400);
    expect(query.errors).toEqual([
      { path: '/cursor', message: expect.stringMatching(/percent-encoding does not decode/) },
    ]);
    const param = await problem(await admin('/admin/keys/%ED%B0%80'), 400);
    expect(param.errors?.map((e) => e.path)).toEqual(['/id']);
    // Valid percent-encoded UTF-8 is text like any other (here: not a UUID, so a plain 400).
    const ok = await problem(await admin('/admin/keys/%C3%A6'), 400);
    expect(ok.errors?.[0]?.message).not.toMatch(/well-formed/);
  });
});

describe('problems never echo client data', () => {
  const PLANTED = ['01010012356', 'kari.nordmann@example.no', '4111111111111111'];
  const leaks = (text: string) => PLANTED.filter((p) => text.includes(p));

  it.each([
    ['an unknown field named by personal data', { ...valid, '01010012356': 1 }, '/'],
    [
      'several unknown fields',
      { ...valid, 'kari.nordmann@example.no': 1, x4111111111111111: 2 },
      '/',
    ],
    [
      'a metadata key the key rule refuses',
      { ...valid, metadata: { 'kari.nordmann@example.no': 'x' } },
      '/metadata/[EMAIL]',
    ],
    [
      'a metadata value of a wrong type under a personal key',
      { ...valid, metadata: { '01010012356': { a: 1 } } },
      '/metadata/[NO_FODSELSNUMMER]',
    ],
    [
      'an invalid enum value',
      { ...valid, input: [{ role: '01010012356', content: 'x' }] },
      '/input/0/role',
    ],
    ['a too long model', { ...valid, model: 'kari.nordmann@example.no '.repeat(10) }, '/model'],
    ['a wrong type', { ...valid, operation: ['4111111111111111'] }, '/operation'],
  ])('%s: names the field, echoes nothing', async (_what, body, path) => {
    const { key } = await createKey();
    const res = await check(key, body);
    const text = await res.clone().text();
    const p = await problem(res, 400);
    expect(p.errors?.map((e) => e.path)).toContain(path);
    expect(leaks(text)).toEqual([]);
  });

  it('rebuilds "Unrecognized key" from the safe form of each key', async () => {
    const { key } = await createKey();
    const p = await problem(await check(key, { ...valid, '01010012356': 1, temperature: 2 }), 400);
    expect(p.errors).toEqual([
      { path: '/', message: 'Unrecognized keys: "[NO_FODSELSNUMMER]", "temperature"' },
    ]);
  });

  it('does not quote a malformed body, nor an admin policy override', async () => {
    const { key } = await createKey();
    expect(leaks(await (await check(key, '{"model": "01010012356" "x": 1}')).text())).toEqual([]);
    const res = await admin('/admin/keys', {
      method: 'POST',
      body: JSON.stringify({
        name: 'k',
        policy: { detectors: { 'kari.nordmann@example.no': 'block' } },
      }),
    });
    const text = await res.clone().text();
    expect((await problem(res, 400)).errors?.[0]?.path).toMatch(/^\/policy\/detectors/);
    expect(leaks(text)).toEqual([]);
  });
});

describe('authentication', () => {
  it('401 without credentials, with WWW-Authenticate', async () => {
    const res = await SELF.fetch(BASE + '/v1/check', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(valid),
    });
    await problem(res, 401);
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
  });

  it('401 with an unknown key', async () => {
    await problem(await check('vakt_not-a-real-key', valid), 401);
  });

  it('401 for /admin without or with a wrong token', async () => {
    await problem(await SELF.fetch(BASE + '/admin/keys'), 401);
    await problem(
      await SELF.fetch(BASE + '/admin/keys', { headers: { Authorization: 'Bearer wrong' } }),
      401,
    );
  });

  it('refuses a revoked key at once in the revoking isolate', async () => {
    const { id, key } = await createKey();
    expect((await check(key, valid)).status).toBe(200); // now cached
    const del = await SELF.fetch(BASE + `/admin/keys/${id}`, {
      method: 'DELETE',
      headers: { Authorization: 'Bearer test-admin-token' },
    });
    expect(del.status).toBe(200);
    const p = await problem(await check(key, valid), 401);
    expect(p.detail).toMatch(/revoked/);
  });
});

describe('routing errors', () => {
  it('404 for an unknown path', async () => {
    await problem(await SELF.fetch(BASE + '/nope'), 404);
  });

  it('405 with Allow for a known path and wrong method', async () => {
    const res = await SELF.fetch(BASE + '/v1/check');
    await problem(res, 405);
    expect(res.headers.get('Allow')).toBe('POST');
  });

  it('sets secure headers and a request id on every response', async () => {
    const res = await SELF.fetch(BASE + '/health');
    expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
    expect(res.headers.get('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps a sane caller-supplied request id and replaces an unsafe one', async () => {
    const ok = await SELF.fetch(BASE + '/health', { headers: { 'X-Request-Id': 'trace-123' } });
    expect(ok.headers.get('X-Request-Id')).toBe('trace-123');
    const bad = await SELF.fetch(BASE + '/health', { headers: { 'X-Request-Id': 'a b<script>' } });
    expect(bad.headers.get('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each([
    '01010012356',
    'req_01010012356',
    'card-4111111111111111',
    'ref-123.456.789',
    'kari@example.no',
  ])(
    'replaces the caller request id %s (personal data or a long digit run) and never echoes it',
    async (id) => {
      const res = await SELF.fetch(BASE + '/nope', { headers: { 'X-Request-Id': id } });
      expect(res.headers.get('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/);
      expect([...res.headers.values()].join('\n')).not.toContain(id);
      expect(await res.text()).not.toContain(id);
    },
  );

  it.each([
    'trace-123',
    '0b1d6a3e-3c1f-4f59-9a55-6f1f2f0c9a11',
    '4bf92f3577b34da6a3ce929d0e0e4736',
    'build.2024-12-17',
  ])('keeps the clean caller request id %s', async (id) => {
    const res = await SELF.fetch(BASE + '/health', { headers: { 'X-Request-Id': id } });
    expect(res.headers.get('X-Request-Id')).toBe(id);
  });
});

describe('GET /openapi.json', () => {
  it('never reflects the Host header: the server URL is relative', async () => {
    const res = await SELF.fetch('https://attacker.example/openapi.json', {
      headers: { Host: 'attacker.example', 'X-Forwarded-Host': 'evil.example' },
    });
    const text = await res.text();
    expect(JSON.parse(text).servers).toEqual([{ url: '/' }]);
    expect(text).not.toMatch(/attacker|evil/);
  });
});
