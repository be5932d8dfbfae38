import { describe, expect, it } from 'vitest';
import { isCleanIdentifier, longDigitRuns, scrubIdentifier } from './identifier';

describe('scrubIdentifier', () => {
  it.each([
    ['id01010012356', 'id[NUMBER]'],
    ['ref 0101001235 9', 'ref [NUMBER]'],
    ['4111-1111-1111-1112', '[NUMBER]'],
    ['010100-12345', '[NUMBER]'],
    ['user 123.456.789', 'user [NUMBER]'],
    ['req_0101001\u200b2357', 'req_[NUMBER]'],
    ['id ０１２３４５６７８９', 'id [NUMBER]'],
    ['🙂-123\u2009456\u2009789-🙂', '🙂-[NUMBER]-🙂'],
    ['gpt-4 kari.nordmann@example.no fnr 01010012356', 'gpt-4 [EMAIL] fnr [NO_FODSELSNUMMER]'],
  ])('redacts %j', (input, expected) => {
    expect(scrubIdentifier(input)).toBe(expected);
    expect(isCleanIdentifier(input)).toBe(false);
  });

  it('redacts a fødselsnummer after an underscore (by the detector or as a digit run)', () => {
    expect(scrubIdentifier('req_01010012356')).toMatch(/^req_\[(NO_FODSELSNUMMER|NUMBER)\]$/);
  });

  it('redacts a card glued to a word with a hyphen (by the detector or as a digit run)', () => {
    expect(scrubIdentifier('card-4111111111111111')).toMatch(/^card-\[(PAYMENT_CARD|NUMBER)\]$/);
  });

  it.each([
    'claude-sonnet-4-20250514',
    'claude-opus-4-1-20250805',
    'claude-3-5-sonnet-20241022',
    'gpt-4o-2024-08-06',
    'o1-2024-12-17',
    'llama-3.1-405b-instruct',
    '0b1d3a2c-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
    'trace-4bf92f3577b34da6a3ce929d0e0e4736',
    'sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b',
    'build 12345678',
    '2024-01-15T10:30:00Z',
  ])('keeps %j', (input) => {
    expect(scrubIdentifier(input)).toBe(input);
    expect(isCleanIdentifier(input)).toBe(true);
  });

  it('finds runs in time linear in the input', () => {
    const text = '1-'.repeat(50_000) + '123456789';
    expect(longDigitRuns(text)).toEqual([[100_000, 100_009]]);
  });
});
