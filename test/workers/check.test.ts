import { describe, expect, it } from 'vitest';
import { admin, check, createKey } from './helpers';

interface Decision {
  decision_id: string;
  allowed: boolean;
  reasons: string[];
  findings: {
    type: string;
    start: number;
    end: number;
    action: string;
    path: string;
    message_index?: number;
  }[];
  redacted_input: unknown;
  policy_version: string;
  rate_limit: { limit: number; remaining: number; reset_s: number };
}

const FNR = '01010012356'; // valid check digits, 1 Jan 1900/2000

async function decide(key: string, body: Record<string, unknown>): Promise<Decision> {
  const res = await check(key, { model: 'gpt-4', operation: 'classify', input: 'hello', ...body });
  expect(res.status).toBe(200);
  expect(res.headers.get('Content-Type')).toMatch(/^application\/json/);
  return res.json();
}

describe('POST /v1/check', () => {
  it('allows a clean input and returns the full decision shape', async () => {
    const { key } = await createKey();
    const d = await decide(key, { input: 'Summarise the quarterly report.' });
    expect(d).toMatchObject({ allowed: true, reasons: [], findings: [], redacted_input: null });
    expect(d.decision_id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(d.policy_version).toMatch(/^[0-9a-f]{16}$/);
    expect(d.rate_limit).toEqual({ limit: 60, remaining: 59, reset_s: 1 });
  });

  it.each([
    ['external_model_detected', { model: 'my-own-llm' }],
    ['model_not_allowed', { model: 'gemini-pro' }],
    ['operation_not_allowed', { operation: 'fine-tune' }],
    ['contains_personal_data', { input: `Kundens fødselsnummer er ${FNR}.` }],
    ['input_too_large', { input: 'x'.repeat(100_001) }],
  ])('blocks with %s', async (reason, body) => {
    const { key } = await createKey();
    const d = await decide(key, body);
    expect(d.allowed).toBe(false);
    expect(d.reasons).toEqual([reason]);
    expect(d.redacted_input).toBeNull();
  });

  it('blocks with contains_secret', async () => {
    const { key } = await createKey();
    const pem =
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n-----END RSA PRIVATE KEY-----';
    const d = await decide(key, { input: `deploy with ${pem}` });
    expect(d.reasons).toEqual(['contains_secret']);
    expect(d.findings.map((f) => f.type)).toEqual(['secret_private_key']);
  });

  it('blocks a detector type the key policy sets to block', async () => {
    const { key } = await createKey({ name: 's', policy: { detectors: { email: 'block' } } });
    const d = await decide(key, { input: 'mail me at kari@example.no' });
    expect(d.reasons).toEqual(['contains_personal_data']);
    expect(d.findings).toEqual([{ type: 'email', start: 11, end: 26, action: 'block', path: '' }]);
  });

  it('reports every reason that applies, in vocabulary order', async () => {
    const { key } = await createKey();
    const d = await decide(key, { model: 'my-own-llm', operation: 'fine-tune', input: FNR });
    expect(d.reasons).toEqual([
      'external_model_detected',
      'operation_not_allowed',
      'contains_personal_data',
    ]);
  });

  it('redacts when every finding is redact and nothing blocks', async () => {
    const { key } = await createKey();
    const input = 'Skriv til ola.nordmann@example.no eller kari@example.com i dag.';
    const d = await decide(key, { input });
    expect(d.allowed).toBe(true);
    expect(d.redacted_input).toBe('Skriv til [EMAIL] eller [EMAIL] i dag.');
    expect(d.findings).toEqual([
      { type: 'email', start: 10, end: 33, action: 'redact', path: '' },
      { type: 'email', start: 40, end: 56, action: 'redact', path: '' },
    ]);
    expect(JSON.stringify(d.findings)).not.toContain('example');
  });

  it('gives chat findings a message index and redacts per message', async () => {
    const { key } = await createKey();
    const d = await decide(key, {
      input: [
        { role: 'system', content: 'You are helpful.' },
        { role: 'user', content: 'Reply to per@example.no' },
      ],
    });
    expect(d.findings).toEqual([
      { type: 'email', start: 9, end: 23, action: 'redact', path: '/1/content', message_index: 1 },
    ]);
    expect(d.redacted_input).toEqual([
      { role: 'system', content: 'You are helpful.' },
      { role: 'user', content: 'Reply to [EMAIL]' },
    ]);
  });

  it('reports offsets in code points, not UTF-16 units', async () => {
    const { key } = await createKey();
    const d = await decide(key, { input: '😀😀 ola@example.no' });
    expect(d.findings[0]).toMatchObject({ start: 3, end: 17 });
    expect(d.redacted_input).toBe('😀😀 [EMAIL]');
  });

  it('reports allow-action findings without blocking or redacting them', async () => {
    const { key } = await createKey({
      name: 'a',
      policy: { detectors: { no_fodselsnummer: 'allow' } },
    });
    const d = await decide(key, { input: `id ${FNR}` });
    expect(d).toMatchObject({ allowed: true, reasons: [], redacted_input: null });
    expect(d.findings).toEqual([
      { type: 'no_fodselsnummer', start: 3, end: 14, action: 'allow', path: '' },
    ]);
  });

  it('uses the key policy override and changes policy_version with it', async () => {
    const plain = await createKey();
    const custom = await createKey({ name: 'c', policy: { models: ['my-own-llm'] } });
    const a = await decide(plain.key, { model: 'my-own-llm' });
    const b = await decide(custom.key, { model: 'my-own-llm' });
    expect(a.allowed).toBe(false);
    expect(b.allowed).toBe(true);
    expect(a.policy_version).not.toBe(b.policy_version);
    expect(b.policy_version).toBe(custom.policy_version);

    const patched = await admin(`/admin/keys/${custom.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ policy: null }),
    });
    expect(patched.status).toBe(200);
    const c = await decide(custom.key, { model: 'my-own-llm' });
    expect(c.allowed).toBe(false);
    expect(c.policy_version).toBe(a.policy_version);
  });

  it('accepts the key in X-API-Key', async () => {
    const { key } = await createKey();
    const res = await check(
      'ignored',
      { model: 'gpt-4', operation: 'classify', input: 'hi' },
      {
        Authorization: '',
        'X-API-Key': key,
      },
    );
    expect(res.status).toBe(200);
  });

  it('never echoes the input or a detected value in the response', async () => {
    const { key } = await createKey();
    const res = await check(key, { model: 'gpt-4', operation: 'classify', input: `fnr ${FNR}` });
    expect(await res.text()).not.toContain(FNR);
  });
});
