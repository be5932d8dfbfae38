/**
 * Identifiers in ordinary and hostile text (issue 12): numbers next to other numbers, lists,
 * punctuation glued to words, context words that used to cancel valid numbers, and the hard
 * negatives those relaxed rules must still leave alone.
 */
import { describe, expect, it } from 'vitest';
import { scanText } from './index';

function found(text: string): string[] {
  return scanText(text).map((d) => `${d.type}:${text.slice(d.start, d.end)}`);
}

const FNR = 'no_fodselsnummer:01010012356';
const FNR2 = 'no_fodselsnummer:15038512363';
const CARD = 'payment_card:4111111111111111';

describe('numbers next to other numbers', () => {
  it.each<[string, string[]]>([
    ['Pasient 01010012356 45 år, innlagt i går.', [FNR]],
    ['fnr 01010012356 123', [FNR]],
    ['Fnr 01010012356 15038512363 gjelder søsknene.', [FNR, FNR2]],
    ['Kort 4111 1111 1111 1111 12/29 CVC 123', ['payment_card:4111 1111 1111 1111']],
    ['Card 4111111111111111 123', [CARD]],
    ['Kort 4111 1111 1111 1111 123', ['payment_card:4111 1111 1111 1111']],
    ['Ring 912 34 567 22 i dag', ['phone:912 34 567']],
    ['Tlf +47 912 34 567 22', ['phone:+47 912 34 567']],
    ['Kontonr 1234 56 78903 12', ['no_kontonummer:1234 56 78903']],
    ['12 01010012356', [FNR]],
  ])('%s', (text, expected) => {
    expect(found(text)).toEqual(expected);
  });

  it('finds every fødselsnummer in 99 KB of them separated by single spaces', () => {
    const fnrs = ['01010012356', '15038512363', '15038500047'];
    const text = Array.from({ length: 8250 }, (_, i) => fnrs[i % 3]).join(' ');
    expect(text.length).toBe(98_999);
    const d = scanText(text);
    expect(d.length).toBe(8250);
    expect(d.every((x) => x.type === 'no_fodselsnummer' && x.end - x.start === 11)).toBe(true);
  });
});

describe('lists and glued punctuation', () => {
  it.each<[string, string[]]>([
    ['Ola,01010012356,45', [FNR]],
    ['Ola,45,01010012356', [FNR]],
    ['Fnr: 01010012356,15038512363', [FNR, FNR2]],
    ['https://x.no/person/01010012356/profile', [FNR]],
    ['fnr_01010012356', [FNR]],
    ['fnr-01010012356', [FNR]],
    ['#01010012356', [FNR]],
    ['(01010012356)', [FNR]],
    ['user_01010012356_old', [FNR]],
    ['C:\\Users\\01010012356\\Desktop', [FNR]],
    ['fnr 01010012356/15038512363', [FNR, FNR2]],
  ])('%s', (text, expected) => {
    expect(found(text)).toEqual(expected);
  });
});

describe('context words do not cancel what validates', () => {
  it.each<[string, string[]]>([
    ['Customer 01010012356 called about the bill.', [FNR]],
    ['Sak 01010012356', [FNR]],
    ['kundenr 01010012356', [FNR]],
    ['fnr (ref 01010012356)', [FNR]],
    ['Order paid with 4111111111111111 yesterday', [CARD]],
    ['Total charged to 4111111111111111.', [CARD]],
    ['Refund NOK 1200 to card 4111111111111111', [CARD]],
    // Labelled by a reference word, a plain 16-digit string is that reference.
    ['Ordrenummer 4111111111111111', []],
    ['Transaction no. 4111111111111111 settled.', []],
    // Weak types keep their negative words.
    ['Ordre 912 34 567', []],
    ['kr 22 33 44 55', []],
    ['Faktura 1234.56.78903', []],
    ['Ordre 923 609 016', []],
  ])('%s', (text, expected) => {
    expect(found(text)).toEqual(expected);
  });
});

describe('hard negatives', () => {
  it.each([
    'Verdi 0,01010012356',
    'Pi er 3,14159265358',
    'Beløp 12345678,90 kr',
    'Omsetningen var 1 234 567 890 kroner.',
    'NOK 4 111 111 111 111 111',
    'Lottotall: 23 34 45 56 67 12 3',
    'Vinnertall 23 34 45 56 67',
    'request 550e8400-e29b-41d4-a716-446655440000',
    'request 550e840a-e29b-41d4-a716-015038500047',
    '2024-05-01T12:00:00.000Z',
    'created_at=1714564800 updated_at=1714568400123',
    'IMG_20240501_1234567890.jpg',
    'Dato 2024/05/01',
    'ISBN 978-82-02-12345-6',
    'IBAN FR50 0051 0868 6405 47U9 16UU 439',
    'Konto GB82 WEST 1234 5698 7654 33 (feil)',
    'Ordre 15038500098 er sendt.',
    'https://butikk.no/ordre/15038500098/kvittering',
    'Romnummer 101 102 103 104 105',
    'Sak 2023/123456789 er lukket.',
    'Forholdet var 12345678/123456789.',
  ])('%s', (text) => {
    expect(found(text)).toEqual([]);
  });
});

describe('e-mail addresses as people write them', () => {
  it.each<[string, string[]]>([
    ['Skriv til kåre@blåbær.no i dag', ['email:kåre@blåbær.no']],
    ['søren.ødegård@fjellstue.no', ['email:søren.ødegård@fjellstue.no']],
    ['ivan@пример.рф', ['email:ivan@пример.рф']],
    ['Kontakt ola@firma.zip', ['email:ola@firma.zip']],
    ['Video fra kari@studio.mov', ['email:kari@studio.mov']],
    ['请联系kari@example.no谢谢', ['email:kari@example.no']],
    // File names: an extension that is no TLD, or a real TLD in a file context.
    ['Se icon@2x.png', []],
    ['Last ned logo@2x.zip', []],
    ['assets/kari@firma.zip', []],
    ['Last ned vedlegg rapport@firma.zip', []],
    ['backup@2024.zip', []],
  ])('%s', (text, expected) => {
    expect(found(text)).toEqual(expected);
  });
});
