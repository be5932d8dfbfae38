/**
 * Scanning is linear in the input size, also for adversarial inputs. Work is measured with the
 * engine's deterministic step counter (characters examined, including the distance each
 * `indexOf` searched), passed explicitly to the scan, never with a clock: for each input the
 * work at 256 KiB must be about four times the work at 64 KiB, and a small constant per character.
 */
import { describe, expect, it } from 'vitest';
import { scan } from './index';

const KIB = 1024;

function fill(unit: string, size: number): string {
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

function stepsFor(text: string): number {
  const work = { steps: 0 };
  scan(text, work);
  return work.steps;
}

const ADVERSARIAL: [string, string][] = [
  ['digits', '1'],
  ['digit groups', '12345678901 '],
  ['dotted digits', '1.'],
  ['spaced digits', '1 '],
  ['a@', 'a@'],
  ['local part then @', 'a.b-c_d+e'],
  ['-----BEGIN', '-----BEGIN'],
  ['BEGIN private key headers', '-----BEGIN RSA PRIVATE KEY-----\n'],
  ['eyJ', 'eyJ'],
  ['eyJ parts', 'eyJ.'],
  ['colons', ':'],
  ['hex colons', 'a:'],
  ['double colons', '1::'],
  ['assignments', 'password='],
  ['secret key names', 'api_key:'],
  ['AKIA', 'AKIA'],
  ['underscores', '_'],
  ['ghp_', 'ghp_'],
  ['github_pat_', 'github_pat_'],
  ['xoxb-', 'xoxb-1-'],
  ['sk_live_', 'sk_live_'],
  ['AIza', 'AIza'],
  ['IBAN starts', 'NO12 '],
  ['context words', 'fnr kontonr org.nr tlf '],
  ['plus signs', '+4'],
  // person_name and postal_address
  ['capitalised words', 'Kari '],
  ['a run of capitalised words', 'Ola Kari Nordmann Hansen Berg '],
  ['capitals glued to capitals', 'KARI'],
  ['initials', 'K. '],
  ['Last, First', 'Hansen, Kari '],
  ['particles', 'Ludwig van '],
  ['roles', 'advokat Lie '],
  ['verbs of saying', 'sier Hansen '],
  ['genitives', 'Hansens '],
  ['street generics', 'gate 1 '],
  ['streets', 'Storgata 1 '],
  ['streets with postnummer', 'Storgata 5, 0155 Oslo '],
  ['PO boxes', 'Postboks 1 '],
  ['PO boxes with a delivery point', 'Postboks 1 Dep, '],
  ['abbreviated streets', 'Storgt. 7 '],
  ['unknown words opening sentences', 'Xqa Zwb. Zwb '],
  ['postnummer after a comma', 'Storgata 5,0155 Oslo '],
  ['lower-case streets with postnummer', 'storgata 5, 0155 oslo '],
  ['lower-case genitive streets with postnummer', 'karl johans gate 2, 0159 oslo '],
  ['house numbers before postnummer', '5, 0155 '],
  ['CSV rows of addresses', 'storgata,5,0155,oslo;'],
  ['CSV fields without a street', 'x;5;0155;'],
  ['initials before a street', 'C.J. Hambros plass 4 '],
  ['titles before first names', 'Statsråd Chief Kari Hansen '],
  ['numbers after spaces', ' 1'],
  ['two-digit chunks', '12 34 '],
  ['phone layouts side by side', '912 34 567 '],
  ['cards side by side', '4111 1111 1111 1111 '],
  ['zero-width spaces', '1\u200b'],
  ['soft hyphens in digits', '0101\u00ad'],
  ['no-break spaces', '12\u00a0'],
  ['full-width digits', '０１２'],
  ['Arabic-Indic digits', '٠١٢ '],
  ['combining marks', '1\u0336\u0301'],
  ['marks without a base', '\u0301'],
  ['astral digits', '𝟏𝟐 '],
  ['full-width at', 'a＠'],
  ['IBAN-shaped groups', 'FR50 0051 0868 6405 47U9 '],
  ['comma lists of long integers', '01010012356,'],
  ['identifiers after underscores', 'fnr_01010012356 '],
  ['hyphens between hex and digits', 'a716-44665544-'],
  ['UUID-like runs', 'e29b-41d4-a716-'],
  ['labelled card numbers', 'Ordre nr. 4111111111111111 '],
  ['e-mail with Unicode local parts', 'kåre.ø@'],
  ['file-like TLDs', 'a@2x.zip '],
  ['slash lists of long integers', '01010012356/'],
  ['dashed phone layouts', 'tlf 412-34-567 '],
  ['compact 0047 numbers', '004741234567 '],
  ['institution names', 'Brønnøysundregistrene '],
  ['form values', 'navn=Tor '],
];

describe('linear-time scanning', () => {
  it('counts work (the counter is live)', () => {
    expect(stepsFor(fill('1', 64 * KIB))).toBeGreaterThanOrEqual(64 * KIB);
  });

  it.each(ADVERSARIAL)('%s: 4× the input costs ≈4× the work', (_name, unit) => {
    const small = stepsFor(fill(unit, 64 * KIB));
    const large = stepsFor(fill(unit, 256 * KIB));
    expect(large / small).toBeLessThan(4.5);
    expect(large / (256 * KIB)).toBeLessThan(100);
  });

  it('handles 256 KiB of mixed adversarial content in one call', () => {
    const text = ADVERSARIAL.map(([, unit]) => fill(unit, 10 * KIB)).join(' ');
    const steps = stepsFor(text);
    expect(steps / text.length).toBeLessThan(100);
  });
});
