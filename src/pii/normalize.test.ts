/** The normalisation layer: what it maps, the offset map back, and the fast path. */
import { describe, expect, it } from 'vitest';
import { scanText } from './index';
import { normalize } from './normalize';

describe('normalize', () => {
  it('returns ASCII and Latin-1 text as it is, without an offset map', () => {
    for (const text of [
      'Fnr 01010012356, e-post kari@example.no',
      'Blåbærsyltetøy på Ålesund, ÆØÅ é ü ß',
    ]) {
      const n = normalize(text);
      expect(n.text).toBe(text);
      expect(n.map).toBeNull();
    }
  });

  it.each<[string, string, string]>([
    ['zero-width space', '0101001\u200b2356', '01010012356'],
    ['zero-width joiner', '0101001\u200d2356', '01010012356'],
    ['zero-width non-joiner', '0101001\u200c2356', '01010012356'],
    ['soft hyphen', '010100\u00ad12356', '01010012356'],
    ['byte order mark', '\ufeff01010012356', '01010012356'],
    ['word joiner', '0101\u20600012356', '01010012356'],
    ['bidi override', '\u202e01010012356\u202c', '01010012356'],
    ['variation selector', '0101\ufe0f0012356', '01010012356'],
    ['Hangul filler', '0101\u3164', '0101'],
    ['tag character', '01\u{e0041}01', '0101'],
    ['no-break space', '912\u00a034\u00a0567', '912 34 567'],
    ['thin space', '4111\u20091111', '4111 1111'],
    ['figure space', '4111\u20071111', '4111 1111'],
    ['narrow no-break space', '912\u202f34', '912 34'],
    ['ideographic space', '912\u300034', '912 34'],
    ['full-width digits', '０１０１００１２３５６', '01010012356'],
    ['Arabic-Indic digits', '٠١٠١٠٠١٢٣٥٦', '01010012356'],
    ['Extended Arabic-Indic digits', '۰۱۰۱۰۰۱۲۳۵۶', '01010012356'],
    ['Devanagari digits', '०१०१००१२३५६', '01010012356'],
    ['Thai digits', '๙๑๒', '912'],
    ['mathematical bold digits', '𝟎𝟏𝟎𝟏', '0101'],
    ['superscript digits', '0101001²³⁵⁶', '01010012356'],
    ['full-width at', 'kari＠example.no', 'kari@example.no'],
    ['small commercial at', 'kari﹫example.no', 'kari@example.no'],
    ['full-width letters', 'ｋａｒｉ', 'kari'],
    ['non-breaking hyphen', '4111\u20111111', '4111-1111'],
    ['en dash', '010100\u201312356', '010100-12356'],
    ['minus sign', '\u22125', '-5'],
    ['combining mark on a digit', '0\u03361\u0336', '01'],
    ['keycap sequence', '1\ufe0f\u20e32\ufe0f\u20e3', '12'],
    ['decomposed å composes', 'ka\u030are', 'kåre'],
    ['ligature', 'ﬁle', 'file'],
    ['line separator', 'a\u2028b', 'a\nb'],
  ])('%s', (_name, input, expected) => {
    expect(normalize(input).text).toBe(expected);
  });

  it('maps offsets back to the original, covering hidden characters inside a span', () => {
    const text = 'x \u200b0101001\u200b2356\u200b y';
    const n = normalize(text);
    expect(n.text).toBe('x 01010012356 y');
    const map = n.map!;
    // The span of the digits in the normalised text: [2, 13).
    expect([map.start(2), map.end(13)]).toEqual([3, 15]);
    expect(text.slice(3, 15)).toBe('0101001\u200b2356');
    expect([map.start(0), map.end(1)]).toEqual([0, 1]);
    expect([map.start(14), map.end(15)]).toEqual([text.length - 1, text.length]);
  });

  it('maps an expanded or contracted cluster to the whole original cluster', () => {
    const text = 'ﬁ 𝟎𝟏 a';
    const n = normalize(text);
    expect(n.text).toBe('fi 01 a');
    const map = n.map!;
    expect([map.start(1), map.end(2)]).toEqual([0, 1]); // the `i` of `ﬁ`
    expect([map.start(3), map.end(5)]).toEqual([2, 6]); // two astral digits, four code units
    expect([map.start(6), map.end(7)]).toEqual([7, 8]);
  });

  it('keeps offsets one to one for same-length replacements (no map needed)', () => {
    const n = normalize('912\u00a034\u00a0567 og ０１');
    expect(n.text).toBe('912 34 567 og 01');
    expect(n.map).toBeNull();
  });

  it('leaves lone surrogates and text without changes alone', () => {
    expect(normalize('a\ud800b').text).toBe('a\ud800b');
    expect(normalize('Ελληνικά и кириллица 中文 🙂').map).toBeNull();
  });

  it('changes every code point that NFKC changes (the fast-path class misses none)', () => {
    const missed: string[] = [];
    for (let cp = 0xa0; cp < 0x110000; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      if (ch.normalize('NFKC') === ch) continue;
      if (normalize(`a${ch}b`).text === `a${ch}b`) missed.push(cp.toString(16));
    }
    expect(missed).toEqual([]);
  });
});

describe('findings point at the original text', () => {
  it.each<[string, string]>([
    ['fnr 0101001\u200b2356.', '0101001\u200b2356'],
    ['fnr \ufeff01010012356', '01010012356'],
    ['fnr ０１０１００１２３５６ ok', '０１０１００１２３５６'],
    ['🙂 fnr 𝟎𝟏𝟎𝟏𝟎𝟎𝟏𝟐𝟑𝟓𝟔 🙂', '𝟎𝟏𝟎𝟏𝟎𝟎𝟏𝟐𝟑𝟓𝟔'],
    ['kort 4111\u20091111\u20091111\u20091111', '4111\u20091111\u20091111\u20091111'],
    ['skriv til kari＠example.no', 'kari＠example.no'],
  ])('%j', (text, value) => {
    const [d, ...rest] = scanText(text);
    expect(rest).toEqual([]);
    expect(text.slice(d!.start, d!.end)).toBe(value);
  });
});
