/**
 * Precision and recall per type on the labelled corpora — the generated corpus
 * (test/fixtures/corpus/corpus.json, scripts/gen-corpus.mjs, fixed seed) and the hand-written set
 * (handwritten.json) — scored by test/fixtures/corpus/score.ts (exact type and span). The test
 * prints every miss and false positive, and asserts the figures docs/detectors.md states (the
 * table between its `corpus-figures` markers), so the document and the engine cannot drift apart.
 */
import { describe, expect, it } from 'vitest';
import doc from '../../docs/detectors.md?raw';
import corpus from '../../test/fixtures/corpus/corpus.json';
import handwritten from '../../test/fixtures/corpus/handwritten.json';
import heldout from '../../test/fixtures/corpus/heldout.json';
import {
  figures,
  parseHandwritten,
  score,
  type CorpusRecord,
} from '../../test/fixtures/corpus/score';
import { scanText } from './index';

const generated = (corpus as { types: string[]; records: CorpusRecord[] }).records;
const types = (corpus as { types: string[] }).types;
const written = parseHandwritten(handwritten.records);
const held = parseHandwritten(heldout.records);

const gen = score(generated, types, (t) => scanText(t));
const hw = score(written, types, (t) => scanText(t));
const ho = score(held, types, (t) => scanText(t));

for (const [name, s] of [
  ['generated', gen],
  ['hand-written', hw],
  ['held-out', ho],
] as const) {
  for (const m of s.misses) console.log(`[${name}] miss: ${m}`);
  for (const f of s.falsePositives) console.log(`[${name}] false positive: ${f}`);
}

/** The rows of the documented table between `<!-- name:begin -->` and `<!-- name:end -->`. */
function documentedRows(name = 'corpus-figures'): string[][] {
  const block = doc.split(`<!-- ${name}:begin -->`)[1]?.split(`<!-- ${name}:end -->`)[0];
  if (!block) throw new Error(`docs/detectors.md has no ${name} block`);
  return block
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|[\s|:-]+\|$/.test(l))
    .slice(1) // header
    .map((l) =>
      l
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim().replace(/`/g, '')),
    );
}

/** Labels of type `t` in `records`. */
const labelled = (records: readonly CorpusRecord[], t: string) =>
  records.reduce((n, r) => n + r.labels.filter((l) => l.type === t).length, 0);

/** The held-out set's rows: the types it has labels or findings for. */
function heldOutRows(): string[][] {
  return types
    .filter((t) => labelled(held, t) > 0 || ho.perType.get(t)!.fp > 0)
    .map((t) => {
      const f = figures(ho.perType.get(t)!);
      return [t, String(labelled(held, t)), f.precision, f.recall];
    });
}

function measuredRows(): string[][] {
  return types.map((t) => {
    const g = figures(gen.perType.get(t)!);
    const h = figures(hw.perType.get(t)!);
    return [
      t,
      String(labelled(generated, t)),
      g.precision,
      g.recall,
      String(labelled(written, t)),
      h.precision,
      h.recall,
    ];
  });
}

describe('labelled corpora', () => {
  it('has at least 100 generated positives of every type and every kind of hard negative', () => {
    for (const t of types) {
      const n = generated.filter((r) => r.labels.some((l) => l.type === t)).length;
      expect(n, t).toBeGreaterThanOrEqual(100);
    }
    const cases = new Set(generated.filter((r) => r.kind === 'near_miss').map((r) => r.case));
    for (const c of [
      'fnr-wrong-k1',
      'order-number-11',
      'luhn-timestamp',
      'uuid',
      'git-sha',
      'date',
      'version',
      'hard/amount-thousands',
      'hard/amount-decimal',
      'hard/iso-timestamps',
      'hard/unix-timestamps',
      'hard/order-ids',
      'hard/kid',
      'hard/tracking',
      'hard/invalid-iban',
      'hard/phone-like-ids',
    ]) {
      expect(cases.has(c), c).toBe(true);
    }
    expect(written.filter((r) => r.kind === 'positive').length).toBeGreaterThanOrEqual(50);
    expect(written.filter((r) => r.kind === 'near_miss').length).toBeGreaterThanOrEqual(25);
  });

  it('matches the per-type figures docs/detectors.md states', () => {
    expect(measuredRows()).toEqual(documentedRows());
  });

  it('matches the held-out figures docs/detectors.md states', () => {
    expect(held.length).toBeGreaterThanOrEqual(40);
    expect(heldOutRows()).toEqual(documentedRows('heldout-figures'));
    const line = `${ho.negatives} held-out hard negatives, ${ho.negativesHit} with a finding`;
    expect(doc.replace(/\s+/g, ' ')).toContain(line);
  });

  it('keeps precision ≥ 0.99 for every type on the generated corpus and its hard negatives', () => {
    for (const t of types) {
      const c = gen.perType.get(t)!;
      expect({ t, precision: c.tp / (c.tp + c.fp) >= 0.99 }).toEqual({ t, precision: true });
    }
  });

  it('finds nothing in ≥ 99 % of the hard negatives and near misses (as documented)', () => {
    const line = `${gen.negatives} generated and ${hw.negatives} hand-written hard negatives and near misses, ${gen.negativesHit} and ${hw.negativesHit} with a finding`;
    expect(doc.replace(/\s+/g, ' ')).toContain(line);
    expect(gen.negativesHit / gen.negatives).toBeLessThanOrEqual(0.01);
    expect(hw.negativesHit / hw.negatives).toBeLessThanOrEqual(0.01);
  });
});
