/** Organisasjonsnummer: mod-11, the leading 8/9, the VAT form and context. */
import { describe, expect, it } from 'vitest';
import { scanText } from './index';
import { isValidOrganisasjonsnummer } from './organisasjonsnummer';

/** The findings of `text` as `type:value` strings, easy to read in a table. */
function found(text: string): string[] {
  return scanText(text).map((d) => `${d.type}:${text.slice(d.start, d.end)}`);
}

describe('organisasjonsnummer', () => {
  it('validates mod-11 and the leading 8/9', () => {
    expect(isValidOrganisasjonsnummer('923609016')).toBe(true);
    expect(isValidOrganisasjonsnummer('923609017')).toBe(false);
    expect(isValidOrganisasjonsnummer('123609016')).toBe(false);
  });
  it.each<[string, string[]]>([
    ['Org.nr. 923609016', ['no_organisasjonsnummer:923609016']],
    ['NO 923 609 016 MVA', ['no_organisasjonsnummer:923 609 016']],
    ['NO923609016MVA', ['no_organisasjonsnummer:923609016']],
    ['Nordlys AS, 923 609 016, Oslo', ['no_organisasjonsnummer:923 609 016']],
    ['923609016', []],
    ['Ordre 923609016', []],
    ['kr 923 609 016', []],
    ['org.nr 923609017', []],
    // The grouped form as invoices print it: a reference word cancels it only as its label.
    ['Faktura fra 912 345 602 (Byggmester Hansen AS)', ['no_organisasjonsnummer:912 345 602']],
    ['Ordre 912 345 602 er sendt', []],
    ['Ordre nr. 912 345 602', []],
    ['Beløpet på 912 345 602 er overført', []],
    ['Versjon 912 345 602', []],
  ])('%s', (text, expected) => {
    expect(found(text)).toEqual(expected);
  });
});
