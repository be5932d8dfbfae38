import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyMutation, mutation } from '../../test/fixtures/chat-golden';
import { CheckRequestSchema } from './check';
import { fieldErrors } from './issues';

const base = { model: 'gpt-4', operation: 'chat' };

function errors(body: Record<string, unknown>) {
  const data = { ...base, ...body };
  const r = CheckRequestSchema.safeParse(data);
  expect(r.success).toBe(false);
  return fieldErrors(r.error!.issues, data);
}

describe('validation errors name the exact pointer', () => {
  it.each<[string, unknown, string, RegExp]>([
    [
      'an unknown part type',
      [{ role: 'user', content: [{ type: 'bogus' }] }],
      '/input/0/content/0/type',
      /^expected one of text, input_text, .*image_url/,
    ],
    [
      'a missing part type',
      [{ role: 'user', content: [{ text: 'x' }] }],
      '/input/0/content/0/type',
      /^expected one of text/,
    ],
    [
      'a wrong-typed text',
      [{ role: 'user', content: [{ type: 'text', text: 3 }] }],
      '/input/0/content/0/text',
      /^expected string, got number$/,
    ],
    [
      'an unknown role',
      [{ role: 'robot', content: 'x' }],
      '/input/0/role',
      /^expected one of system, developer, user, assistant, tool, function$/,
    ],
    ['neither role nor type', [{ content: 'x' }], '/input/0', /role.*or.*type/],
    ['a non-object message', ['hi'], '/input/0', /^expected object/],
    [
      'wrong content type',
      [{ role: 'user', content: 5 }],
      '/input/0/content',
      /^expected string, or array/,
    ],
    [
      'tool call arguments as an object',
      [
        {
          role: 'assistant',
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: {} } }],
        },
      ],
      '/input/0/tool_calls/0/function/arguments',
      /^expected string, got object$/,
    ],
    [
      'a tool call without id',
      [
        {
          role: 'assistant',
          tool_calls: [{ type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
      ],
      '/input/0/tool_calls/0/id',
      /^required/,
    ],
    [
      'a Responses item with a bad type',
      [{ type: 'function_cal', call_id: 'c', name: 'f', arguments: '{}' }],
      '/input/0/type',
      /^expected one of message, function_call/,
    ],
    [
      'a Responses function_call without arguments',
      [{ type: 'function_call', call_id: 'c', name: 'f' }],
      '/input/0/arguments',
      /^required \(expected string\)$/,
    ],
    [
      'an Anthropic tool_result with a bad block',
      [
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'tool_use' }] }],
        },
      ],
      '/input/0/content/0/content/0/type',
      /^expected one of text, image, document$/,
    ],
    [
      'tool_use input not an object',
      [{ role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'n', input: 'x' }] }],
      '/input/0/content/0/input',
      /^expected record, got string$/,
    ],
    ['a number as input', 42, '/input', /^expected string, or array$/],
  ])('%s', (_name, input, path, message) => {
    const e = errors({ input });
    expect(e).toHaveLength(1);
    expect(e[0]!.path).toBe(path);
    expect(e[0]!.message).toMatch(message);
  });

  it.each<[string, unknown, string]>([
    [
      'a choice with a bad role',
      [{ index: 0, message: { role: 'bot', content: 'x' } }],
      '/output/0/message/role',
    ],
    [
      'an Anthropic block with a bad type',
      [{ type: 'text', text: 'a' }, { type: 'txt' }],
      '/output/1/type',
    ],
    ['a message with bad tool_calls', { role: 'assistant', tool_calls: 'x' }, '/output/tool_calls'],
  ])('output: %s', (_name, output, path) => {
    expect(errors({ output }).map((e) => e.path)).toEqual([path]);
  });

  it('requires exactly one of input and output', () => {
    expect(errors({})).toEqual([{ path: '/input', message: expect.stringMatching(/^required/) }]);
    expect(errors({ input: 'a', output: 'b' })).toEqual([
      { path: '/output', message: 'send either `input` or `output`, not both' },
    ]);
    expect(errors({ input: 'a', input_decision_id: crypto.randomUUID() })).toEqual([
      { path: '/input_decision_id', message: 'only allowed with `output`' },
    ]);
  });

  it('refuses hostile nesting in tolerated extra fields, naming only the message', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 10_000; i++) deep = [deep];
    const e = errors({
      input: [
        { role: 'user', content: 'hi' },
        { role: 'user', content: 'x', extra: deep },
      ],
    });
    expect(e).toEqual([{ path: '/input/1', message: 'nested deeper than 64 levels' }]);
  });
});

describe('fuzzed malformed chat shapes (schema level; the route-level twin is check-fuzz.test.ts)', () => {
  it('every error names the mutated place', () => {
    fc.assert(
      fc.property(mutation, (m) => {
        const mutated = applyMutation(m);
        if (!mutated) return;
        const data = { ...base, [mutated.field]: mutated.value };
        const r = CheckRequestSchema.safeParse(data);
        if (r.success) return;
        const e = fieldErrors(r.error.issues, data);
        expect(e.length).toBeGreaterThan(0);
        for (const x of e) expect(mutated.accepts(x.path), JSON.stringify(x)).toBe(true);
      }),
      { numRuns: 2000, seed: 14 },
    );
  });
});
