/** Fødselsnummer and kontonummer: validation, and which of the two an 11-digit group is. */
import { describe, expect, it } from 'vitest';
import { fnrKind } from './fodselsnummer';
import { scanText } from './index';
import { isValidKontonummer } from './kontonummer';

/** The findings of `text` as `type:value` strings, easy to read in a table. */
function found(text: string): string[] {
  return scanText(text).map((d) => `${d.type}:${text.slice(d.start, d.end)}`);
}

describe('fødselsnummer validation', () => {
  it.each([
    ['02013299997', 1, 'Skatteetaten example, K1 by the old rule'],
    ['30108299920', 1, 'Skatteetaten 2032 example, remainder 0'],
    ['30108299939', 1, 'Skatteetaten 2032 example, remainder 1'],
    ['02013200184', 1, '2032 rule, remainder 1'],
    ['02013200001', 1, '2032 rule, remainder 2'],
    ['02013200281', 1, '2032 rule, remainder 3'],
    ['15038500047', 1, 'ordinary'],
    ['55038500030', 1, 'D-nummer (day + 40)'],
    ['15438500100', 1, 'H-nummer / NAV synthetic (month + 40)'],
    ['15838500002', 1, 'Skatteetaten synthetic (month + 80)'],
    ['55838500187', 1, 'synthetic D-nummer (day + 40, month + 80)'],
    ['29020000064', 1, '29 February of a leap year (2000)'],
    ['81212121223', 2, 'FH-nummer (no date; needs context)'],
    ['29020100085', 0, '29 February 1901/2001 does not exist'],
    ['31048500032', 0, '31 April'],
    ['15138500095', 0, 'month 13'],
    ['15038500098', 0, 'K1 remainder outside 0–3 (passes the kontonummer check)'],
    ['15038500048', 0, 'wrong K2'],
  ])('%s → %i (%s)', (value, kind) => {
    expect(fnrKind(value)).toBe(kind);
  });

  it('every fødselsnummer passes the kontonummer check, which is why format and context decide', () => {
    expect(isValidKontonummer('15038500047')).toBe(true);
    expect(isValidKontonummer('15038500098')).toBe(true);
    expect(isValidKontonummer('15038500048')).toBe(false);
  });
});

describe('fødselsnummer vs kontonummer in text', () => {
  it.each<[string, string[]]>([
    ['Fødselsnummer: 15038500047', ['no_fodselsnummer:15038500047']],
    ['Pasient 150385 00047 innlagt', ['no_fodselsnummer:150385 00047']],
    ['Søker: Kari, 15038500047, Bergen.', ['person_name:Kari', 'no_fodselsnummer:15038500047']],
    ['kontonr 15038500047', ['no_kontonummer:15038500047']],
    ['Betal til 1503.85.00047', ['no_kontonummer:1503.85.00047']],
    ['Konto 1234 56 78903', ['no_kontonummer:1234 56 78903']],
    ['kontonummer 12345678903', ['no_kontonummer:12345678903']],
    ['12345678903', []],
    ['fnr 12345678903', []],
    ['fnr 15038500098', []],
    // A valid fødselsnummer is one whatever reference word is near; a number that only passes
    // the kontonummer check is nothing after one.
    ['Ordrenummer 15038500047 er sendt', ['no_fodselsnummer:15038500047']],
    ['Invoice no. 15038500047 is overdue', ['no_fodselsnummer:15038500047']],
    ['Ordrenummer 15038500098 er sendt', []],
    ['kundenr 15038500098', []],
    ['Faktura 1234.56.78903', []],
    ['fh-nummer 81212121223', ['no_fodselsnummer:81212121223']],
    ['Nummer 81212121223', []],
    ['Det var fint. 15038500047', ['no_fodselsnummer:15038500047']],
    ['Se ordre 42. Fnr 15038500047', ['no_fodselsnummer:15038500047']],
    ['Kontonr:\n1503.85.00047', ['no_kontonummer:1503.85.00047']],
    [
      '| Konto |\n|---|\n| Per | 15038500047 |',
      ['person_name:Per', 'no_fodselsnummer:15038500047'],
    ],
  ])('%s', (text, expected) => {
    expect(found(text)).toEqual(expected);
  });
});
