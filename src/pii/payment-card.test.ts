/** Payment cards: Luhn, issuer ranges with their lengths, layouts and context. */
import { describe, expect, it } from 'vitest';
import { scanText } from './index';
import { issuerAccepts, luhn } from './payment-card';

/** The findings of `text` as `type:value` strings, easy to read in a table. */
function found(text: string): string[] {
  return scanText(text).map((d) => `${d.type}:${text.slice(d.start, d.end)}`);
}

describe('payment cards', () => {
  it('needs Luhn and an issuer range with a matching length', () => {
    expect(luhn('4111111111111111')).toBe(true);
    expect(issuerAccepts('4111111111111111')).toBe(true);
    expect(issuerAccepts('378282246310005')).toBe(true);
    expect(issuerAccepts('3782822463100050')).toBe(false); // Amex is 15 digits
    expect(issuerAccepts('1700000000008')).toBe(false); // ms timestamp: no issuer starts with 1
  });
  it.each<[string, string[]]>([
    ['Kort 4111 1111 1111 1111', ['payment_card:4111 1111 1111 1111']],
    ['card 4111-1111-1111-1111', ['payment_card:4111-1111-1111-1111']],
    ['Amex 3782 822463 10005', ['payment_card:3782 822463 10005']],
    ['paid with 5555555555554444.', ['payment_card:5555555555554444']],
    ['4111111111111112', []],
    ['created_at: 1700000000008', []],
    ['Ordrenummer 4111111111111111', []],
    ['Ordre 12: betalt med kort 4111111111111111', ['payment_card:4111111111111111']],
  ])('%s', (text, expected) => {
    expect(found(text)).toEqual(expected);
  });
});
