import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { BASE, check, createKey } from './helpers';

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

  it('replaces a caller request id that carries personal data', async () => {
    const res = await SELF.fetch(BASE + '/health', {
      headers: { 'X-Request-Id': '01010012356' },
    });
    expect(res.headers.get('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
