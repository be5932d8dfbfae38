/**
 * Governance API v2, input side: request bodies as real clients send them (OpenAI Chat
 * Completions with content parts and tool calls, OpenAI Responses input items, Anthropic
 * Messages with tool_use / tool_result), through the real /v1/check route. Findings must point at
 * the exact text (JSON pointer + code-point offsets within it), `redacted_input` must keep the
 * shape, and no text-bearing place may go unscanned.
 */
import { describe, expect, it } from 'vitest';
import { check, createKey } from './helpers';

interface Finding {
  type: string;
  start: number;
  end: number;
  action: string;
  path: string;
  message_index?: number;
}
interface Decision {
  allowed: boolean;
  reasons: string[];
  findings: Finding[];
  direction: string;
  redacted_input?: unknown;
  skipped_parts: number;
}

const FNR = '01010012356';

async function decide(key: string, input: unknown): Promise<Decision> {
  const res = await check(key, { model: 'gpt-4', operation: 'chat', input });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as Decision;
}

/** Every place in the response findings must point at: (pointer, the matched text). */
function located(input: unknown, findings: Finding[]): Array<[string, string, string]> {
  return findings.map((f) => {
    let v: unknown = input;
    for (const k of f.path.split('/').slice(1)) v = (v as Record<string, unknown>)[k];
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    return [f.path, f.type, [...text].slice(f.start, f.end).join('')];
  });
}

const redactAll = { name: 'redact-all', policy: { default_detector_action: 'redact' } };

describe('OpenAI Chat Completions messages', () => {
  const args = JSON.stringify({ fnr: FNR, note: 'ring 912 34 567' });
  const messages = [
    { role: 'developer', content: 'Du er en kundeservice-agent.' },
    {
      role: 'user',
      name: 'kunde_42',
      content: [
        { type: 'text', text: 'Min e-post er kari.nordmann@example.no 😀, hjelp meg.' },
        {
          type: 'image_url',
          image_url: { url: 'https://example.com/kvittering.png', detail: 'low' },
        },
        { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
      ],
    },
    {
      role: 'assistant',
      content: null,
      refusal: null,
      tool_calls: [
        {
          id: 'call_abc',
          type: 'function',
          function: { name: 'lookup_customer', arguments: args },
        },
      ],
    },
    { role: 'tool', tool_call_id: 'call_abc', content: 'Kunde funnet: ola@example.com' },
  ];

  it('finds data in text parts, tool-call arguments and tool results, with exact pointers', async () => {
    const { key } = await createKey(redactAll);
    const d = await decide(key, messages);
    expect(d).toMatchObject({ allowed: true, reasons: [], direction: 'input', skipped_parts: 2 });
    expect(located(messages, d.findings)).toEqual([
      ['/1/content/0/text', 'email', 'kari.nordmann@example.no'],
      ['/2/tool_calls/0/function/arguments', 'no_fodselsnummer', FNR],
      ['/2/tool_calls/0/function/arguments', 'phone', '912 34 567'],
      ['/3/content', 'email', 'ola@example.com'],
    ]);
    expect(d.findings.map((f) => f.message_index)).toEqual([1, 2, 2, 3]);
    expect(d.findings[0]).toMatchObject({ start: 14, end: 38 });
  });

  it('redacts in place: same shape, extra fields kept, arguments still valid JSON', async () => {
    const { key } = await createKey(redactAll);
    const d = await decide(key, messages);
    const expected = structuredClone(messages) as typeof messages;
    (expected[1]!.content as Array<{ text?: string }>)[0]!.text =
      'Min e-post er [EMAIL] 😀, hjelp meg.';
    expected[2]!.tool_calls![0]!.function.arguments =
      '{"fnr":"[NO_FODSELSNUMMER]","note":"ring [PHONE]"}';
    expected[3]!.content = 'Kunde funnet: [EMAIL]';
    expect(d.redacted_input).toEqual(expected);
    const redactedArgs = (d.redacted_input as typeof messages)[2]!.tool_calls![0]!.function
      .arguments;
    expect(JSON.parse(redactedArgs)).toEqual({ fnr: '[NO_FODSELSNUMMER]', note: 'ring [PHONE]' });
  });

  it('blocks on a fødselsnummer in tool arguments under the default policy', async () => {
    const { key } = await createKey();
    const d = await decide(key, messages);
    expect(d).toMatchObject({ allowed: false, reasons: ['contains_personal_data'] });
    expect(d.redacted_input).toBeNull();
  });

  it('finds a value written with JSON escapes in the arguments', async () => {
    const { key } = await createKey(redactAll);
    const escaped = '{"to":"per\\u0040example.no"}';
    const d = await decide(key, [
      {
        role: 'assistant',
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'mail', arguments: escaped } },
        ],
      },
    ]);
    expect(d.findings).toEqual([
      {
        type: 'email',
        start: 7,
        end: 26,
        action: 'redact',
        path: '/0/tool_calls/0/function/arguments',
        message_index: 0,
      },
    ]);
    const out = d.redacted_input as Array<{
      tool_calls: Array<{ function: { arguments: string } }>;
    }>;
    expect(out[0]!.tool_calls[0]!.function.arguments).toBe('{"to":"[EMAIL]"}');
  });

  it('keeps the v1 contract: {role, content} arrays with message_index', async () => {
    const { key } = await createKey();
    const d = await decide(key, [
      { role: 'system', content: 'You are helpful.' },
      { role: 'user', content: 'Reply to per@example.no' },
    ]);
    expect(d.findings).toEqual([
      { type: 'email', start: 9, end: 23, action: 'redact', path: '/1/content', message_index: 1 },
    ]);
    expect(d.redacted_input).toEqual([
      { role: 'system', content: 'You are helpful.' },
      { role: 'user', content: 'Reply to [EMAIL]' },
    ]);
  });
});

describe('OpenAI Responses input items', () => {
  const items = [
    {
      role: 'user',
      content: [
        { type: 'input_text', text: 'Send kvitteringen til per@example.no' },
        { type: 'input_image', image_url: 'https://example.com/a.png', detail: 'auto' },
        { type: 'input_file', file_id: 'file-123' },
      ],
    },
    {
      type: 'function_call',
      id: 'fc_1',
      call_id: 'call_1',
      name: 'send_mail',
      arguments: '{"to":"per@example.no","copy":false}',
      status: 'completed',
    },
    { type: 'function_call_output', call_id: 'call_1', output: 'Sendt til per@example.no' },
    {
      type: 'reasoning',
      id: 'rs_1',
      summary: [{ type: 'summary_text', text: 'Brukeren vil sende til per@example.no' }],
      encrypted_content: 'gAAAA',
    },
    {
      type: 'message',
      role: 'assistant',
      id: 'msg_1',
      status: 'completed',
      content: [{ type: 'output_text', text: 'Ferdig: per@example.no', annotations: [] }],
    },
    { type: 'item_reference', id: 'msg_0' },
  ];

  it('scans every text-bearing item and keeps the shape when redacting', async () => {
    const { key } = await createKey(redactAll);
    const d = await decide(key, items);
    expect(d.skipped_parts).toBe(2);
    expect(located(items, d.findings)).toEqual([
      ['/0/content/0/text', 'email', 'per@example.no'],
      ['/1/arguments', 'email', 'per@example.no'],
      ['/2/output', 'email', 'per@example.no'],
      ['/3/summary/0/text', 'email', 'per@example.no'],
      ['/4/content/0/text', 'email', 'per@example.no'],
    ]);
    const out = d.redacted_input as typeof items;
    expect(out).toHaveLength(items.length);
    expect(out[1]).toEqual({ ...items[1], arguments: '{"to":"[EMAIL]","copy":false}' });
    expect(out[3]).toMatchObject({ encrypted_content: 'gAAAA', id: 'rs_1' });
    expect(out[5]).toEqual(items[5]);
    expect(JSON.stringify(out)).not.toContain('per@example.no');
  });
});

describe('Anthropic Messages', () => {
  const messages = [
    {
      role: 'user',
      content: [
        {
          type: 'text',
          text: `Finn kunden med fødselsnummer ${FNR}.`,
          cache_control: { type: 'ephemeral' },
        },
        {
          type: 'image',
          source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' },
        },
      ],
    },
    {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'Slår opp kari@example.no', signature: 'EqQB' },
        { type: 'text', text: 'Jeg slår opp kunden.' },
        {
          type: 'tool_use',
          id: 'toolu_01',
          name: 'lookup_customer',
          input: { query: { email: 'kari@example.no' }, limit: 1 },
        },
      ],
    },
    {
      role: 'user',
      content: [
        {
          type: 'tool_result',
          tool_use_id: 'toolu_01',
          content: [{ type: 'text', text: 'Kunden har tlf 912 34 567' }],
        },
        {
          type: 'tool_result',
          tool_use_id: 'toolu_02',
          content: 'Konto 1234.56.78903',
          is_error: false,
        },
        { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'vedlegg' } },
        { type: 'redacted_thinking', data: 'EmwKAhgB' },
      ],
    },
  ];

  it('scans text, thinking, tool_use input and tool_result content; skips images and documents', async () => {
    const { key } = await createKey(redactAll);
    const d = await decide(key, messages);
    expect(d.skipped_parts).toBe(3);
    expect(located(messages, d.findings)).toEqual([
      ['/0/content/0/text', 'no_fodselsnummer', FNR],
      ['/1/content/0/thinking', 'email', 'kari@example.no'],
      ['/1/content/2/input', 'email', 'kari@example.no'],
      ['/2/content/0/content/0/text', 'phone', '912 34 567'],
      ['/2/content/1/content', 'no_kontonummer', '1234.56.78903'],
    ]);
    // tool_use.input offsets are within its compact JSON text.
    expect(d.findings[2]).toMatchObject({ start: 19, end: 34 });
  });

  it('redacts tool_use input as an object and keeps every other field', async () => {
    const { key } = await createKey(redactAll);
    const d = await decide(key, messages);
    const out = d.redacted_input as typeof messages;
    expect(out[1]!.content[2]).toEqual({
      type: 'tool_use',
      id: 'toolu_01',
      name: 'lookup_customer',
      input: { query: { email: '[EMAIL]' }, limit: 1 },
    });
    expect(out[0]!.content[0]).toMatchObject({
      text: 'Finn kunden med fødselsnummer [NO_FODSELSNUMMER].',
      cache_control: { type: 'ephemeral' },
    });
    expect(out[0]!.content[1]).toEqual(messages[0]!.content[1]);
    expect(out[2]!.content[3]).toEqual(messages[2]!.content[3]);
  });
});

describe('nothing text-bearing is left unscanned', () => {
  it('finds a planted address in every text field of a body that uses them all', async () => {
    const { key } = await createKey(redactAll);
    const m = (n: number) => `mail u${n}@example.no`;
    const input = [
      { role: 'system', content: m(0), name: m(1) },
      { role: 'developer', content: [{ type: 'text', text: m(2) }] },
      {
        role: 'user',
        content: [
          { type: 'text', text: m(3) },
          { type: 'input_text', text: m(4) },
          { type: 'refusal', refusal: m(5) },
          { type: 'thinking', thinking: m(6) },
          { type: 'tool_use', id: 't', name: 'n', input: { a: [m(7)] } },
          { type: 'tool_result', tool_use_id: 't', content: m(8) },
          { type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: m(9) }] },
          { type: 'output_text', text: m(10) },
        ],
      },
      {
        role: 'assistant',
        content: m(11),
        refusal: m(12),
        tool_calls: [
          {
            id: 'a',
            type: 'function',
            function: { name: 'f', arguments: JSON.stringify({ x: m(13) }) },
          },
          { id: 'b', type: 'custom', custom: { name: 'g', input: m(14) } },
        ],
        function_call: { name: 'h', arguments: JSON.stringify([m(15)]) },
      },
      { role: 'tool', content: [{ type: 'text', text: m(16) }], tool_call_id: 'a' },
      { role: 'function', name: 'f', content: m(17) },
      { type: 'function_call', call_id: 'c', name: 'f', arguments: JSON.stringify({ y: m(18) }) },
      { type: 'function_call_output', call_id: 'c', output: [{ type: 'input_text', text: m(19) }] },
      { type: 'custom_tool_call', call_id: 'd', name: 'g', input: m(20) },
      { type: 'custom_tool_call_output', call_id: 'd', output: m(21) },
      {
        type: 'reasoning',
        summary: [{ type: 'summary_text', text: m(22) }],
        content: [{ type: 'reasoning_text', text: m(23) }],
      },
      { type: 'message', role: 'user', content: m(24) },
    ];
    const d = await decide(key, input);
    const found = located(input, d.findings).map(([, , value]) => value);
    expect(found.sort()).toEqual(Array.from({ length: 25 }, (_, n) => `u${n}@example.no`).sort());
    expect(JSON.stringify(d.redacted_input)).not.toMatch(/u\d+@example/);
  });
});
