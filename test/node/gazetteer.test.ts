import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildGazetteer } from '../../scripts/gen-gazetteer.mjs';
import { getTables } from '../../src/pii/data';

describe('gazetteer module', () => {
  it('is what scripts/gen-gazetteer.mjs builds from scripts/gazetteer-sources/', async () => {
    const committed = readFileSync(
      new URL('../../src/pii/data/gazetteer.ts', import.meta.url),
      'utf8',
    );
    expect(committed === (await buildGazetteer())).toBe(true);
  });

  it('decodes the postal register: every code maps to its place, PO boxes are marked', () => {
    const t = getTables();
    const rows = readFileSync(
      new URL('../../scripts/gazetteer-sources/no-postnummer.tsv', import.meta.url),
      'utf8',
    )
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t'));
    expect(rows.length).toBe(5122);
    for (const [code, place, , , category] of rows) {
      expect(t.postal[Number(code)]).toBe(place);
      expect(t.poBox[Number(code)]).toBe(category === 'P' ? 1 : 0);
    }
    expect(t.postal.filter(Boolean).length).toBe(5122);
  });

  it('finds registered names through the scanners’ hash table, also in capitals', () => {
    const t = getTables();
    const find = (w: string) => t.wordTable.lookup(w, 0, w.length);
    expect(find('Kari')).toBe(t.words.get('Kari'));
    expect(find('KARI')).toBe(t.words.get('Kari'));
    expect(find('Anne-Lise')).toBe(t.words.get('Anne-Lise'));
    expect(find('Qwxzy')).toBe(0);
  });
});
