/**
 * Context words. Where the digits alone are ambiguous (every fødselsnummer also passes the
 * kontonummer check, a plain 8-digit number may be a phone number or a date), the nearest
 * Norwegian or English keyword before the candidate decides. Only a bounded window before the
 * candidate is read, so the cost per candidate is constant and scanning stays linear.
 */
import { isLetter } from './text';
import type { Work } from './types';

export const CTX_FNR = 1;
export const CTX_KONTO = 2;
export const CTX_ORG = 4;
export const CTX_PHONE = 8;
export const CTX_CARD = 16;
export const CTX_IP = 32;
/** Order, invoice, reference, customer, ticket … numbers: the digits are an identifier of a thing. */
export const CTX_REFERENCE = 64;
/** Amounts: kr, NOK, beløp, price … */
export const CTX_MONEY = 128;
/** Version, build, section numbers. */
export const CTX_VERSION = 256;

/** Words that carry a negative signal for every numeric detector. */
export const CTX_NEGATIVE = CTX_REFERENCE | CTX_MONEY | CTX_VERSION;

const WORDS: ReadonlyArray<readonly [number, readonly string[]]> = [
  [
    CTX_FNR,
    [
      'fnr',
      'f.nr',
      'fødselsnummer',
      'fødselsnummeret',
      'fødselsnr',
      'fodselsnummer',
      'personnummer',
      'personnummeret',
      'personnr',
      'pnr',
      'dnr',
      'd-nr',
      'd-nummer',
      'd-nummeret',
      'hnr',
      'h-nummer',
      'fh-nummer',
      'fhnr',
      'hjelpenummer',
      'identitetsnummer',
      'identitetsnummeret',
      'id-nummer',
      'ssn',
      'nin',
      'identity',
      'birth',
      'født',
    ],
  ],
  [
    CTX_KONTO,
    [
      'konto',
      'kontoen',
      'kontonr',
      'kontonummer',
      'kontonummeret',
      'kto',
      'kto.nr',
      'bankkonto',
      'bankkontoen',
      'bankkontonummer',
      'bank',
      'account',
      'acct',
      'a/c',
    ],
  ],
  [
    CTX_ORG,
    [
      'org',
      'orgnr',
      'org.nr',
      'org.nummer',
      'organisasjonsnummer',
      'organisasjonsnummeret',
      'organisasjonsnr',
      'foretaksnummer',
      'foretaksregisteret',
      'enhetsregisteret',
      'brreg',
      'mva',
      'vat',
      'company',
      'organization',
      'organisation',
      'registration',
    ],
  ],
  [
    CTX_PHONE,
    [
      'tlf',
      'telefon',
      'telefonnummer',
      'telefonnummeret',
      'telefonnr',
      'mobil',
      'mobilnummer',
      'mobilnummeret',
      'mobilnr',
      'tlfnr',
      'tlf.nr',
      'tel.nr',
      'mob.nr',
      'mobnr',
      'faks',
      'fax',
      'mob',
      'ring',
      'ringe',
      'sms',
      'phone',
      'tel',
      'telephone',
      'mobile',
      'call',
      'cell',
      'whatsapp',
    ],
  ],
  [
    CTX_CARD,
    ['kort', 'kortnummer', 'kortnummeret', 'kortnr', 'card', 'visa', 'mastercard', 'amex'],
  ],
  [CTX_IP, ['ip', 'ip-adresse', 'ip-adressen', 'ipv4', 'address', 'server', 'host', 'dns', 'ping']],
  [
    CTX_REFERENCE,
    [
      'ordre',
      'ordren',
      'ordrenummer',
      'ordrenr',
      'order',
      'bestilling',
      'bestillingsnummer',
      'bestillingsnr',
      'faktura',
      'fakturaen',
      'fakturanummer',
      'fakturanr',
      'invoice',
      'kid',
      'kid-nummer',
      'ref',
      'referanse',
      'referansenummer',
      'reference',
      'saksnummer',
      'saksnr',
      'sak',
      'case',
      'ticket',
      'tracking',
      'sporingsnummer',
      'sendingsnummer',
      'kundenummer',
      'kundenr',
      'customer',
      'transaksjon',
      'transaction',
      'serienummer',
      'serial',
      'varenummer',
      'varenr',
      'artikkelnummer',
      'sku',
      'isbn',
      'ean',
      'gtin',
    ],
  ],
  [
    CTX_MONEY,
    [
      'kr',
      'kroner',
      'krone',
      'kronor',
      'nok',
      'eur',
      'usd',
      'sek',
      'dkk',
      'euro',
      'dollar',
      'dollars',
      'beløp',
      'beløpet',
      'sum',
      'total',
      'totalt',
      'pris',
      'price',
      'amount',
      'saldo',
      'balance',
    ],
  ],
  [
    CTX_VERSION,
    [
      'version',
      'versjon',
      'v',
      'ver',
      'build',
      'release',
      'firmware',
      'section',
      'kapittel',
      'avsnitt',
      'punkt',
      'paragraf',
      '§',
    ],
  ],
];

const LEXICON = new Map<string, number>();
for (const [cls, words] of WORDS)
  for (const w of words) LEXICON.set(w, (LEXICON.get(w) ?? 0) | cls);

/** Words written with a period that does not end the sentence. */
const ABBREVIATIONS = new Set(
  (
    'nr no kl ca jf evt f.eks bl.a dvs mv tlf tel mob fnr pnr dnr hnr f.nr fhnr org orgnr org.nr ' +
    'kto kto.nr kontonr ref acct a/c ssn nin ver v kortnr mobilnr telefonnr fakturanr ordrenr ' +
    'kundenr saksnr varenr personnr fødselsnr organisasjonsnr bestillingsnr tlf.nr tel.nr mob.nr ' +
    'tlfnr mobnr faks fax'
  ).split(' '),
);

/** How far back (UTF-16 code units) context is read. */
export const CONTEXT_WINDOW = 64;

function isBlank(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9 || c === 0xa0;
}

/** Letters, § and digits: a number between the keyword and the candidate is a word too. */
function isContextWordChar(c: number): boolean {
  return isLetter(c) || (c >= 48 && c <= 57) || c === 167; /* § */
}

/**
 * The class of the nearest keyword before `start` (within {@link CONTEXT_WINDOW}) that belongs to
 * any class in `mask`, or 0 when there is none. Inner `.`, `-` and `/` stay part of a word
 * (`org.nr`, `d-nummer`, `a/c`).
 */
export function nearestContext(text: string, start: number, mask: number, work: Work): number {
  const limit = Math.max(0, start - CONTEXT_WINDOW);
  work.steps += start - limit;
  let i = start;
  let words = 0;
  while (i > limit) {
    // Skip to the end of the previous word, noting whether a sentence ends in between.
    let sentenceEnd = false;
    let period = false;
    while (i > limit) {
      const c = text.charCodeAt(i - 1);
      if (isContextWordChar(c)) break;
      if (c === 10 || ((c === 33 || c === 63) && isBlank(text.charCodeAt(i)))) sentenceEnd = true;
      else if (c === 46 && isBlank(text.charCodeAt(i))) period = true;
      i--;
    }
    if (i <= limit) break;
    const wordEnd = i;
    while (i > limit) {
      const c = text.charCodeAt(i - 1);
      if (isContextWordChar(c)) i--;
      else if ((c === 46 || c === 45 || c === 47) && i - 2 >= limit) {
        if (isContextWordChar(text.charCodeAt(i - 2))) i--;
        else break;
      } else break;
    }
    const word = text.slice(i, wordEnd).toLowerCase();
    // Context does not reach into the previous sentence. A period after an abbreviation does
    // not end one (`Tlf. 912 34 567`, `Org.nr. 923609016`, `Invoice no. 12345678903`), and a
    // label on the line above still counts when nothing stands between it and the number
    // (`Kontonummer:\n1234.56.78903`) — not a table header rows above (`| Konto |\n…`).
    if (period && !ABBREVIATIONS.has(word)) return 0;
    if (sentenceEnd && words > 0) return 0;
    const cls = LEXICON.get(word) ?? 0;
    if (cls & mask) return cls & mask;
    if (sentenceEnd) return 0;
    words++;
  }
  return 0;
}

/** Whether the word right after `end` (skipping up to two spaces) is a currency (`kr`, `NOK` …). */
export function followedByMoney(text: string, end: number): boolean {
  let i = end;
  while (i < end + 2 && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 0xa0)) i++;
  const s = i;
  while (i < s + 5 && isLetter(text.charCodeAt(i))) i++;
  if (i === s || isLetter(text.charCodeAt(i))) return false;
  return ((LEXICON.get(text.slice(s, i).toLowerCase()) ?? 0) & CTX_MONEY) !== 0;
}

/** Words between a label and its number: `Ordre nr. 123`, `Order no: 123`, `Invoice number 123`. */
const NUMBER_WORDS = new Set(['nr', 'no', 'number', 'nummer', 'num', 'id']);

function isLabelGap(c: number): boolean {
  return isBlank(c) || c === 58 || c === 35 || c === 46 || c === 40; // : # . (
}

/**
 * The class of the word that labels the candidate at `start` — the word right before it,
 * skipping spaces, `:`, `#`, `.`, `(` and one number word (`nr`, `no`, `number` …) — or 0.
 * `Ordrenummer 4111…` and `Order no. 4111…` are labelled by a reference word; in `Order paid
 * with 4111…` the label is `with`. Reads at most {@link CONTEXT_WINDOW} characters.
 */
export function labelOf(text: string, start: number, work: Work): number {
  const limit = Math.max(0, start - CONTEXT_WINDOW);
  work.steps += start - limit;
  let i = start;
  for (let words = 0; words < 2; words++) {
    while (i > limit && isLabelGap(text.charCodeAt(i - 1))) i--;
    const wordEnd = i;
    while (i > limit && isLetter(text.charCodeAt(i - 1))) i--;
    if (i === wordEnd) return 0;
    const word = text.slice(i, wordEnd).toLowerCase();
    if (!NUMBER_WORDS.has(word)) return LEXICON.get(word) ?? 0;
  }
  return 0;
}
