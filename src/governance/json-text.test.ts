import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inputSegments, outputSegments, rebuild, tooDeep } from './content';
import { redactJson, scanJson } from './json-text';

const FNR = '01010012356';

describe('JSON tool arguments', () => {
  it('finds values written with escapes and maps offsets to the raw text', () => {
    const raw = '{"to":"per\\u0040example.no","n":"x"}';
    const [d] = scanJson(raw)!;
    expect(d).toMatchObject({ type: 'email' });
    expect(raw.slice(d!.start, d!.end)).toBe('per\\u0040example.no');
    expect(redactJson(raw, scanJson(raw)!)).toBe('{"to":"[EMAIL]","n":"x"}');
  });

  it('scans keys and numbers; a number becomes a string when redacted', () => {
    const raw = `{"kari@example.no": 1, "id": 15038512363}`;
    const found = scanJson(raw)!;
    expect(found.map((d) => d.type)).toEqual(['email', 'no_fodselsnummer']);
    const out = redactJson(raw, found);
    expect(out).toBe('{"[EMAIL]": 1, "id": "[NO_FODSELSNUMMER]"}');
    expect(JSON.parse(out)).toEqual({ '[EMAIL]': 1, id: '[NO_FODSELSNUMMER]' });
  });

  it('scans text that is not JSON as plain text', () => {
    expect(scanJson('{"to": per@example.no')).toBeNull();
    expect(redactJson('to per@example.no', [{ type: 'email', start: 3, end: 17 }])).toBe(
      'to [EMAIL]',
    );
  });

  it('keeps any JSON valid and the same shape after redaction (property)', () => {
    const leaf = fc.oneof(
      fc.constantFrom(FNR, 'kari@example.no', 'ring 912 34 567', 'x"\\\n\u00e5😀'),
      fc.string(),
      fc.integer(),
      fc.constant(15038512363),
      fc.boolean(),
      fc.constant(null),
    );
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
      array: fc.array(tie('value'), { maxLength: 4 }),
      object: fc.dictionary(fc.oneof(fc.string(), fc.constant('kari@example.no')), tie('value'), {
        maxKeys: 4,
      }),
    })).value;
    fc.assert(
      fc.property(json, fc.boolean(), (value, pretty) => {
        const raw = JSON.stringify(value, null, pretty ? 2 : undefined);
        const found = scanJson(raw)!;
        const out = redactJson(raw, found);
        const parsed: unknown = JSON.parse(out);
        expect(shape(parsed)).toEqual(shape(value));
        expect(scanJson(out)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

/** Structure without leaf values (numbers may turn into strings: both are leaves). */
function shape(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(shape).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v).length}:${Object.values(v).map(shape).join(',')}}`;
  return 'leaf';
}

describe('segments', () => {
  it('lists every text-bearing place with its path and counts skipped parts', () => {
    const c = inputSegments([
      {
        role: 'user',
        name: 'kari',
        content: [
          { type: 'text', text: 'a' },
          { type: 'image_url', image_url: { url: 'u' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        refusal: 'r',
        tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { type: 'reasoning', summary: [{ type: 'summary_text', text: 's' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'n', input: { q: 1 } }] },
    ]);
    expect(c.skippedParts).toBe(1);
    expect(c.segments.map((s) => [s.path.join('/'), s.kind, s.messageIndex])).toEqual([
      ['0/name', 'text', 0],
      ['0/content/0/text', 'text', 0],
      ['1/refusal', 'text', 1],
      ['1/tool_calls/0/function/arguments', 'json', 1],
      ['2/summary/0/text', 'text', 2],
      ['3/content/0/input', 'json-object', 3],
    ]);
    expect(c.segments[5]!.text).toBe('{"q":1}');
  });

  it('walks every output shape', () => {
    expect(outputSegments('a').segments[0]!.path).toEqual([]);
    expect(outputSegments({ role: 'assistant', content: 'a' }).segments[0]!.path).toEqual([
      'content',
    ]);
    expect(
      outputSegments([{ index: 0, message: { role: 'assistant', content: 'a' } }]).segments[0]!
        .path,
    ).toEqual([0, 'message', 'content']);
  });

  it('rebuilds a copy with only the texts replaced', () => {
    const value = [{ role: 'user', content: 'a b', extra: { keep: true } }];
    const c = inputSegments(value);
    const out = rebuild(value, [{ segment: c.segments[0]!, text: 'X' }]);
    expect(out).toEqual([{ role: 'user', content: 'X', extra: { keep: true } }]);
    expect(value[0]!.content).toBe('a b');
  });

  it('finds nesting past the limit without recursion', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    expect(tooDeep([1, deep])).toEqual([1]);
    expect(tooDeep([{ a: [[1]] }])).toBeNull();
  });
});
