/**
 * The metric catalogue is declared once (src/metrics/definitions.ts); docs/metrics.md describes
 * it. Every family must appear in the doc's catalogue table with its type and every label, so a
 * new family cannot ship undocumented and the doc cannot drift from the code.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { METRIC_DEFINITIONS } from '../../src/metrics/definitions';

const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/metrics.md'), 'utf8');
const catalogue = doc.slice(doc.indexOf('## The catalogue'));
/** Rows of the first table under "## The catalogue": metric cell(s) → the whole row. */
const rows = catalogue
  .split('\n')
  .filter((l) => l.startsWith('| `'))
  .map((l) => ({
    names: [...l.split('|')[1]!.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!),
    row: l,
  }));

describe('docs/metrics.md catalogue', () => {
  it.each(Object.entries(METRIC_DEFINITIONS))(
    'documents %s with its type and labels',
    (name, def) => {
      const row = rows.find((r) => r.names.includes(name))?.row;
      expect(row, `${name} has no row in docs/metrics.md's catalogue table`).toBeDefined();
      const cells = row!.split('|').map((c) => c.trim());
      expect(cells[2], `${name} type`).toMatch(new RegExp(`^${def.type}\\b`));
      for (const label of def.labels)
        expect(cells[3], `${name} label ${label}`).toContain(`\`${label}\``);
      if (def.labels.length === 0) expect(cells[3], `${name} has no labels`).toBe('—');
    },
  );
});
