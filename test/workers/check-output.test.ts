/**
 * Governance API v2, output side: checking a model's answer (`output` instead of `input`) in
 * every accepted shape, the policy's `output` section, the input/output exclusivity rules, and
 * the streaming contract (docs/governance-api.md): a streamed answer is checked once, whole,
 * after the last chunk — so a fødselsnummer split across two chunks is still found.
 */
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:test';
import { admin, check, createKey } from './helpers';
import { waitFor } from './audit-helpers';

interface Decision {
  decision_id: string;
  allowed: boolean;
  reasons: string[];
  findings: Array<{ type: string; start: number; end: number; path: string; action: string }>;
  direction: string;
  redacted_input?: unknown;
  redacted_output?: unknown;
  skipped_parts: number;
  rate_limit: { remaining: number };
}

const FNR = '01010012356';

async function send(key: string, body: Record<string, unknown>) {
  return check(key, { model: 'gpt-4o', operation: 'chat', ...body });
}
async function decide(key: string, body: Record<string, unknown>): Promise<Decision> {
  const res = await send(key, body);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as Decision;
}

describe('output checks', () => {
  it.each<[string, unknown, string, unknown]>([
    ['a string', 'Svar til kari@example.no.', '', 'Svar til [EMAIL].'],
    [
      'an assistant message',
      { role: 'assistant', content: 'Svar til kari@example.no.', refusal: null },
      '/content',
      { role: 'assistant', content: 'Svar til [EMAIL].', refusal: null },
    ],
    [
      'an OpenAI choices array',
      [
        {
          index: 0,
          message: { role: 'assistant', content: 'Svar til kari@example.no.' },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      '/0/message/content',
      [
        {
          index: 0,
          message: { role: 'assistant', content: 'Svar til [EMAIL].' },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
    ],
    [
      'Anthropic content blocks',
      [
        { type: 'text', text: 'Svar til kari@example.no.', citations: null },
        { type: 'tool_use', id: 'toolu_1', name: 'send', input: { to: 'x' } },
      ],
      '/0/text',
      [
        { type: 'text', text: 'Svar til [EMAIL].', citations: null },
        { type: 'tool_use', id: 'toolu_1', name: 'send', input: { to: 'x' } },
      ],
    ],
    [
      'OpenAI Responses output items',
      [
        {
          type: 'message',
          id: 'msg_1',
          role: 'assistant',
          status: 'completed',
          content: [{ type: 'output_text', text: 'Svar til kari@example.no.', annotations: [] }],
        },
      ],
      '/0/content/0/text',
      [
        {
          type: 'message',
          id: 'msg_1',
          role: 'assistant',
          status: 'completed',
          content: [{ type: 'output_text', text: 'Svar til [EMAIL].', annotations: [] }],
        },
      ],
    ],
  ])('checks %s and redacts it in the same shape', async (_name, output, path, redacted) => {
    const { key } = await createKey();
    const d = await decide(key, { output });
    expect(d).toMatchObject({ allowed: true, direction: 'output', skipped_parts: 0 });
    expect(d.findings).toEqual([
      expect.objectContaining({ type: 'email', start: 9, end: 24, path, action: 'redact' }),
    ]);
    expect(d.redacted_output).toEqual(redacted);
    expect(d).not.toHaveProperty('redacted_input');
  });

  it('reports direction input and redacted_input for input checks', async () => {
    const { key } = await createKey();
    const d = await decide(key, { input: 'hei' });
    expect(d).toMatchObject({ direction: 'input', redacted_input: null });
    expect(d).not.toHaveProperty('redacted_output');
  });

  it('blocks a fødselsnummer in the answer, and model/operation rules apply as for input', async () => {
    const { key } = await createKey();
    const d = await decide(key, { output: `Kundens fnr er ${FNR}.` });
    expect(d).toMatchObject({ allowed: false, reasons: ['contains_personal_data'] });
    expect(d.redacted_output).toBeNull();
    const m = await decide(key, { model: 'my-own-llm', output: 'ok' });
    expect(m.reasons).toEqual(['external_model_detected']);
  });

  it("applies the policy's output section, defaulting to the input's actions", async () => {
    const { key } = await createKey({
      name: 'out',
      policy: { output: { detectors: { email: 'block' }, max_chars: 50 } },
    });
    const mail = 'Skriv til kari@example.no';
    expect((await decide(key, { input: mail })).allowed).toBe(true);
    expect((await decide(key, { output: mail })).reasons).toEqual(['contains_personal_data']);
    // Phone is not named in the output section: the input's `redact` applies.
    const phone = await decide(key, { output: 'Ring 912 34 567' });
    expect(phone).toMatchObject({ allowed: true, redacted_output: 'Ring [PHONE]' });
    expect((await decide(key, { output: 'x'.repeat(51) })).reasons).toEqual(['input_too_large']);
    expect((await decide(key, { input: 'x'.repeat(51) })).allowed).toBe(true);
  });

  it('audits the direction, the linked input decision and the skipped parts', async () => {
    const { key } = await createKey();
    const a = await decide(key, {
      input: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: 'u' } },
            { type: 'text', text: 'Hva er dette?' },
          ],
        },
      ],
    });
    const b = await decide(key, {
      output: 'Et bilde av en katt.',
      input_decision_id: a.decision_id,
    });
    const row = async (id: string) => {
      await waitFor(async () =>
        Boolean(
          await env.DB.prepare('SELECT 1 FROM audit_log WHERE decision_id = ?').bind(id).first(),
        ),
      );
      const res = await admin(`/admin/audit/${id}`);
      expect(res.status).toBe(200);
      return res.json();
    };
    expect(await row(a.decision_id)).toMatchObject({
      direction: 'input',
      skipped_parts: 1,
      outcome: 'allowed',
    });
    const out = (await row(b.decision_id)) as Record<string, unknown>;
    expect(out).toMatchObject({
      direction: 'output',
      input_decision_id: a.decision_id,
      skipped_parts: 0,
      input_chars: 'Et bilde av en katt.'.length,
    });
    const linked = await env.DB.prepare(
      'SELECT decision_id FROM audit_log WHERE input_decision_id = ?',
    )
      .bind(a.decision_id)
      .all<{ decision_id: string }>();
    expect(linked.results.map((r) => r.decision_id)).toEqual([b.decision_id]);
  });

  it('links the input decision and counts against the same rate limit', async () => {
    const { key } = await createKey({
      name: 'rl',
      policy: { rate_limit: { limit: 3, window_s: 3600 } },
    });
    const a = await decide(key, { input: 'Hva er hovedstaden i Norge?' });
    const b = await decide(key, { output: 'Oslo.', input_decision_id: a.decision_id });
    expect([a.rate_limit.remaining, b.rate_limit.remaining]).toEqual([2, 1]);
    await decide(key, { output: 'Oslo.' });
    expect((await send(key, { output: 'Oslo.' })).status).toBe(429);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['both input and output', { input: 'a', output: 'b' }, '/output'],
    ['neither', {}, '/input'],
    [
      'input_decision_id with input',
      { input: 'a', input_decision_id: crypto.randomUUID() },
      '/input_decision_id',
    ],
    [
      'a malformed input_decision_id',
      { output: 'a', input_decision_id: 'nope' },
      '/input_decision_id',
    ],
    ['an empty output array', { output: [] }, '/output'],
  ])('refuses %s with 400', async (_name, body, path) => {
    const { key } = await createKey();
    const res = await send(key, body);
    expect(res.status).toBe(400);
    const p = (await res.json()) as { errors: Array<{ path: string }> };
    expect(p.errors.map((e) => e.path)).toEqual([path]);
  });
});

describe('streamed answers: one whole-message check after the last chunk', () => {
  /** OpenAI chat.completion.chunk deltas as the SSE stream delivers them. */
  const chunks = [
    { choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] },
    { choices: [{ index: 0, delta: { content: 'Fødselsnummeret er 0101' } }] },
    { choices: [{ index: 0, delta: { content: '0012356, ' } }] },
    { choices: [{ index: 0, delta: { content: 'ring meg.' }, finish_reason: 'stop' }] },
  ];
  /** What every SDK's stream helper does: concatenate the deltas of one choice. */
  const assemble = (cs: typeof chunks) => cs.map((c) => c.choices[0]!.delta.content ?? '').join('');

  it('finds a fødselsnummer split across two chunks in the assembled answer', async () => {
    const { key } = await createKey();
    const answer = assemble(chunks);
    const d = await decide(key, { output: { role: 'assistant', content: answer } });
    expect(d).toMatchObject({ allowed: false, reasons: ['contains_personal_data'] });
    expect(d.findings).toEqual([
      { type: 'no_fodselsnummer', start: 19, end: 30, action: 'block', path: '/content' },
    ]);
  });

  it('(why: checking chunk by chunk would miss it)', async () => {
    const { key } = await createKey();
    for (const c of chunks) {
      const text = c.choices[0]!.delta.content;
      if (!text) continue;
      expect((await decide(key, { output: text })).findings).toEqual([]);
    }
  });
});
