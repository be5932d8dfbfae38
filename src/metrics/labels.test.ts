import { describe, expect, it } from 'vitest';
import { EXTERNAL_MODEL_LABEL, modelLabel, operationLabel, OTHER_OPERATION_LABEL } from './labels';

const KNOWN = ['gpt-4', 'gpt-4o', 'gpt-*', 'gpt-4o*', 'claude-*', 'o1*'];

describe('modelLabel', () => {
  it.each([
    ['gpt-4', 'gpt-4'],
    ['GPT-4o', 'gpt-4o'],
    // Not an exact id: the most specific matching pattern, never the caller's string.
    ['gpt-4o-2024-08-06', 'gpt-4o*'],
    ['gpt-4-turbo', 'gpt-*'],
    ['claude-3', 'claude-*'],
    ['o1-mini', 'o1*'],
    ['gpt-4 kari.nordmann@example.no fnr 01010012356', 'gpt-*'],
    ['gpt-4\udc00', 'gpt-*'],
    ['gpt-4"} 1\nfake_total 9', 'gpt-*'],
    ['my-own-llm', EXTERNAL_MODEL_LABEL],
    ['', EXTERNAL_MODEL_LABEL],
  ])('%j → %s', (model, label) => {
    expect(modelLabel(model, KNOWN)).toBe(label);
  });

  it('gives at most one label per KNOWN_MODELS entry, plus external-model, however many names arrive', () => {
    const labels = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      labels.add(modelLabel(`gpt-4-${i}`, KNOWN));
      labels.add(modelLabel(`claude-${i}`, KNOWN));
      labels.add(modelLabel(`invented-${i}`, KNOWN));
    }
    expect([...labels].sort()).toEqual(['claude-*', EXTERNAL_MODEL_LABEL, 'gpt-*']);
  });

  it('keeps config order among equally specific patterns', () => {
    expect(modelLabel('ab', ['a*', '*b'])).toBe('a*');
    expect(modelLabel('ab', ['*b', 'a*'])).toBe('*b');
  });
});

describe('operationLabel', () => {
  it('is the operation when a policy names it, else *', () => {
    const known = ['classify', 'chat'];
    expect(operationLabel('chat', known)).toBe('chat');
    expect(operationLabel('Chat', known)).toBe(OTHER_OPERATION_LABEL);
    expect(operationLabel('teleport 01010012356', known)).toBe(OTHER_OPERATION_LABEL);
  });

  it('never publishes a policy operation that carries personal data', () => {
    expect(operationLabel('case-01010012356', ['case-01010012356', 'chat'])).toBe(
      OTHER_OPERATION_LABEL,
    );
  });
});
