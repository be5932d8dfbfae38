/**
 * The engine's one pass records word-initial capitals for the names detector (`numbers.ts`);
 * without them the detector searches with a Unicode regex. Both must give the same words, so the
 * same findings, whichever path a text takes.
 */
import { describe, expect, it } from 'vitest';
import { getTables } from './data';
import { detectors } from './index';
import { anchorTable, tokenize } from './numbers';
import { collect, type Tokens } from './person-name';

const WORD_START_CAPITAL = /(?<![\p{L}\p{N}_])\p{Lu}/gu;
const table = anchorTable(
  detectors.flatMap((d) => d.anchors ?? []),
  true,
);

const TEXTS = [
  'Kunden Kari Nordmann, Storgata 5, 0155 Oslo, ringer om lånet. iPhone og base64 QUJDRA== AKIA',
  "Øystein Ås og Ærlige Åse møtte J.K. Rowling og O'Brien; «Anne-Lise» (45) sa: Hei Per!",
  'AIzaSyAbc eyJhbGciOi -----BEGIN KEY x_Kari 3Kari _Kari ²Kari ªKari µKari ×Kari ÷Kari',
  'A B. C\nDag\tLiv/Per=Ola@Berg.Hansen-Moe ÀÖØÞ ßÿ',
];

/** The collected words (the arrays' first `n` entries; their capacity differs by path). */
function words(tok: Tokens) {
  const { n, english, numbers } = tok;
  const head = (a: Int32Array) => [...a.subarray(0, n)];
  return {
    n,
    english,
    numbers,
    start: head(tok.start),
    end: head(tok.end),
    flags: head(tok.flags),
    hash: head(tok.hash),
  };
}

describe('word-initial capitals from the engine pass', () => {
  it.each(TEXTS)('Latin-1 text: the regex positions — %s', (text) => {
    // As normalised text (U+00A0–U+00BF stay: `«`, `²`, `ª`, `µ` glue or not as in the regex).
    const ctx = tokenize(text, table, { steps: 0 }, false)!;
    const raw = tokenize(text, table, { steps: 0 }, true);
    if (raw) expect(raw.capitals).toEqual(ctx.capitals);
    const expected = [...text.matchAll(WORD_START_CAPITAL)].map((m) => m.index);
    expect(ctx.capitals).toEqual(expected);
    const t = getTables();
    expect(words(collect(text, t, { steps: 0 }, ctx.capitals))).toEqual(
      words(collect(text, t, { steps: 0 })),
    );
  });

  it('normalised text: Latin-1 gets capitals, text beyond U+00FF does not', () => {
    const latin = 'Møtte\u00a0Kari Nordmann';
    expect(tokenize(latin, table, { steps: 0 }, true)).toBeNull();
    expect(tokenize(latin, table, { steps: 0 }, false)!.capitals).toEqual([0, 6, 11]);
    expect(tokenize('Дмитрий Kari', table, { steps: 0 }, false)!.capitals).toBeNull();
  });

  it('without a detector asking for them, the pass records none', () => {
    const plain = anchorTable(detectors.flatMap((d) => d.anchors ?? []));
    expect(tokenize('Kari Nordmann', plain, { steps: 0 }, true)!.capitals).toBeNull();
  });
});
