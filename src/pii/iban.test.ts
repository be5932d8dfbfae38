/** IBAN: per-country length, mod-97, the kontonummer inside a Norwegian IBAN. */
import { describe, expect, it } from 'vitest';
import { isValidIban } from './iban';
import { scanText } from './index';
import { isValidKontonummer } from './kontonummer';

/** The findings of `text` as `type:value` strings, easy to read in a table. */
function found(text: string): string[] {
  return scanText(text).map((d) => `${d.type}:${text.slice(d.start, d.end)}`);
}

describe('IBAN', () => {
  it.each([
    ['NO9386011117947', true],
    ['DE89370400440532013000', true],
    ['GB82WEST12345698765432', true],
    ['NO9386011117948', false], // mod-97 fails
    ['NO9386011117', false], // wrong length for NO
    ['XX9386011117947', false], // unknown country
  ])('%s → %s', (value, ok) => {
    expect(isValidIban(value)).toBe(ok);
  });
  it('checks the kontonummer inside a Norwegian IBAN', () => {
    // NO + valid mod-97 check digits over an account number whose mod-11 fails.
    const bban = '86011117948';
    const digits = `${bban}2324` + '00'; // N=23, O=24
    let rem = 0;
    for (const d of digits) rem = (rem * 10 + Number(d)) % 97;
    const iban = `NO${String(98 - rem).padStart(2, '0')}${bban}`;
    expect(isValidKontonummer(bban)).toBe(false);
    expect(isValidIban(iban)).toBe(false);
  });
  it('finds grouped and compact IBANs', () => {
    expect(found('IBAN NO93 8601 1117 947 og DE89 3704 0044 0532 0130 00.')).toEqual([
      'iban:NO93 8601 1117 947',
      'iban:DE89 3704 0044 0532 0130 00',
    ]);
  });
});
