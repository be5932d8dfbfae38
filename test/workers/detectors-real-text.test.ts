/**
 * Issue 12's examples through the real `POST /v1/check` route: every identifier in ordinary and
 * hostile text is found, with code-point offsets into the original input, and redaction replaces
 * exactly those spans and keeps the rest of the text — zero-width and astral characters included.
 */
import { describe, expect, it } from 'vitest';
import { check, createKey } from './helpers';

interface Finding {
  type: string;
  start: number;
  end: number;
  action: string;
  path: string;
}
interface Decision {
  allowed: boolean;
  reasons: string[];
  findings: Finding[];
  redacted_input: unknown;
}

const F = 'no_fodselsnummer';
const C = 'payment_card';
const P = 'phone';
const E = 'email';

/** [input, [type, the value as written in the input][]] */
const CASES: [string, [string, string][]][] = [
  // Numbers next to other numbers.
  ['Pasient 01010012356 45 år, innlagt i går.', [[F, '01010012356']]],
  ['fnr 01010012356 123', [[F, '01010012356']]],
  [
    'Fnr 01010012356 15038512363 gjelder søsknene.',
    [
      [F, '01010012356'],
      [F, '15038512363'],
    ],
  ],
  [
    'Fnr: 01010012356,15038512363',
    [
      [F, '01010012356'],
      [F, '15038512363'],
    ],
  ],
  ['Ola,01010012356,45', [[F, '01010012356']]],
  ['Kort 4111 1111 1111 1111 12/29 CVC 123', [[C, '4111 1111 1111 1111']]],
  ['Card 4111111111111111 123', [[C, '4111111111111111']]],
  ['Ring 912 34 567 22 i dag', [[P, '912 34 567']]],
  // Context words that used to cancel valid numbers.
  ['Customer 01010012356 called about the bill.', [[F, '01010012356']]],
  ['Sak 01010012356', [[F, '01010012356']]],
  ['kundenr 01010012356', [[F, '01010012356']]],
  ['fnr (ref 01010012356)', [[F, '01010012356']]],
  ['Order paid with 4111111111111111 yesterday', [[C, '4111111111111111']]],
  ['Total charged to 4111111111111111.', [[C, '4111111111111111']]],
  // Glue rules.
  ['https://x.no/person/01010012356/profile', [[F, '01010012356']]],
  ['fnr_01010012356', [[F, '01010012356']]],
  ['fnr-01010012356', [[F, '01010012356']]],
  ['#01010012356', [[F, '01010012356']]],
  // Hidden and look-alike characters.
  ['fnr 0101001\u200b2356 ok', [[F, '0101001\u200b2356']]],
  ['fnr 0101001\u200d2356', [[F, '0101001\u200d2356']]],
  ['fnr 010100\u00ad12356', [[F, '010100\u00ad12356']]],
  ['fnr \ufeff01010012356\ufeff', [[F, '01010012356']]],
  ['fnr 0101\ufeff0012356', [[F, '0101\ufeff0012356']]],
  ['Kort 4111\u20091111\u20091111\u20091111', [[C, '4111\u20091111\u20091111\u20091111']]],
  ['Kort 4111\u20071111\u20071111\u20071111', [[C, '4111\u20071111\u20071111\u20071111']]],
  ['Ring 912\u202f34\u202f567', [[P, '912\u202f34\u202f567']]],
  ['fnr ０１０１００１２３５６', [[F, '０１０１００１２３５６']]],
  ['fnr ٠١٠١٠٠١٢٣٥٦', [[F, '٠١٠١٠٠١٢٣٥٦']]],
  ['fnr 𝟎𝟏𝟎𝟏𝟎𝟎𝟏𝟐𝟑𝟓𝟔.', [[F, '𝟎𝟏𝟎𝟏𝟎𝟎𝟏𝟐𝟑𝟓𝟔']]],
  ['Send til kari＠example.no', [[E, 'kari＠example.no']]],
  ['Skriv til kåre@blåbær.no.', [[E, 'kåre@blåbær.no']]],
  [
    'Kontakt ola@firma.zip eller kari@studio.mov',
    [
      [E, 'ola@firma.zip'],
      [E, 'kari@studio.mov'],
    ],
  ],
  [
    '🙂 fnr 0101001\u200b2356 🙂\u200b og kåre@blåbær.no 👍🏽 tlf 912\u00a034\u00a0567',
    [
      [F, '0101001\u200b2356'],
      [E, 'kåre@blåbær.no'],
      [P, '912\u00a034\u00a0567'],
    ],
  ],
];

/** Code-point index of UTF-16 index `i` in `text`. */
function cp(text: string, i: number): number {
  return [...text.slice(0, i)].length;
}

/** Expected findings (code points) and redaction for a case. */
function expected(text: string, values: [string, string][]) {
  const spans: { type: string; start: number; end: number }[] = [];
  let from = 0;
  for (const [type, v] of values) {
    const s = text.indexOf(v, from);
    if (s < 0) throw new Error(`${JSON.stringify(v)} not in ${JSON.stringify(text)}`);
    spans.push({ type, start: s, end: s + v.length });
    from = s + v.length;
  }
  let redacted = '';
  let cursor = 0;
  for (const sp of spans) {
    redacted += text.slice(cursor, sp.start) + `[${sp.type.toUpperCase()}]`;
    cursor = sp.end;
  }
  redacted += text.slice(cursor);
  const findings = spans.map((sp) => ({
    type: sp.type,
    start: cp(text, sp.start),
    end: cp(text, sp.end),
    action: 'redact',
    path: '',
  }));
  return { findings, redacted };
}

async function decide(key: string, input: unknown): Promise<Decision> {
  const res = await check(key, { model: 'gpt-4', operation: 'classify', input });
  expect(res.status).toBe(200);
  return res.json();
}

describe('issue 12 examples through POST /v1/check', () => {
  it('finds each with code-point offsets and redacts only those spans', async () => {
    const { key } = await createKey({
      name: 'redact-all',
      policy: { default_detector_action: 'redact', rate_limit: { limit: 1000, window_s: 60 } },
    });
    for (const [text, values] of CASES) {
      const want = expected(text, values);
      const d = await decide(key, text);
      expect({ text, allowed: d.allowed, findings: d.findings }).toEqual({
        text,
        allowed: true,
        findings: want.findings,
      });
      expect(d.redacted_input).toBe(want.redacted);
    }
  });

  it('reports code-point offsets per message for chat input', async () => {
    const { key } = await createKey({
      name: 'redact-chat',
      policy: { default_detector_action: 'redact' },
    });
    const d = await decide(key, [
      { role: 'system', content: 'Du er en hjelpsom assistent 🙂' },
      { role: 'user', content: '😀😀 Pasient 0101001\u200b2356 45 år' },
    ]);
    expect(d.findings).toEqual([
      { type: F, start: 11, end: 23, action: 'redact', path: '/1/content', message_index: 1 },
    ]);
    expect(d.redacted_input).toEqual([
      { role: 'system', content: 'Du er en hjelpsom assistent 🙂' },
      { role: 'user', content: '😀😀 Pasient [NO_FODSELSNUMMER] 45 år' },
    ]);
  });

  it('blocks with the default policy (fødselsnummer) and redacts nothing', async () => {
    const { key } = await createKey();
    const d = await decide(key, 'Sak 0101001\u200b2356');
    expect(d).toMatchObject({
      allowed: false,
      reasons: ['contains_personal_data'],
      redacted_input: null,
    });
    expect(d.findings).toEqual([{ type: F, start: 4, end: 16, action: 'block', path: '' }]);
  });

  it('finds all 8,250 fødselsnumre in 99 KB separated by single spaces (after an emoji)', async () => {
    const { key } = await createKey({
      name: 'redact-bulk',
      policy: { default_detector_action: 'redact' },
    });
    const fnrs = ['01010012356', '15038512363', '15038500047'];
    const bulk = Array.from({ length: 8250 }, (_, i) => fnrs[i % 3]).join(' ');
    expect(bulk.length).toBe(98_999);
    // The emoji makes every code-point offset differ from its UTF-16 offset.
    const d = await decide(key, `🙂 ${bulk}`);
    expect(d.findings.length).toBe(8250);
    expect(d.findings[0]).toEqual({ type: F, start: 2, end: 13, action: 'redact', path: '' });
    expect(d.findings[8249]).toEqual({
      type: F,
      start: 98_990,
      end: 99_001,
      action: 'redact',
      path: '',
    });
    expect(d.redacted_input).toBe(`🙂 ${Array(8250).fill('[NO_FODSELSNUMMER]').join(' ')}`);
  });

  it('reports no phone number inside an invalid IBAN (issue 15)', async () => {
    const { key } = await createKey();
    const d = await decide(key, 'IBAN FR50 0051 0868 6405 47U9 16UU 439 er ugyldig.');
    expect(d).toMatchObject({ allowed: true, findings: [], redacted_input: null });
  });
});
