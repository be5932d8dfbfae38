/**
 * The Durable Objects' SQLite schemas are written in their code and shown in docs/ for readers;
 * the two must be the same statements (comments, layout and IF NOT EXISTS aside), so the doc can
 * never describe a table the code does not create. Value lists a migration's CHECK spells are
 * the code's vocabulary.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_VIAS } from '../../src/audit/row';
import { DEAD_LETTER_REASONS } from '../../src/audit/store';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(path.join(ROOT, p), 'utf8');

/** CREATE statements in `sql`, normalised: no comments, single spaces, no IF NOT EXISTS. */
function statements(sql: string): string[] {
  return sql
    .replace(/--[^\n]*/g, '')
    .split(';')
    .map((s) =>
      s
        .replace(/\s+/g, ' ')
        .replace(/\bIF NOT EXISTS\b /gi, '')
        .replace(/\( /g, '(')
        .replace(/ \)/g, ')')
        .trim(),
    )
    .filter((s) => /^CREATE /i.test(s))
    .sort();
}

/** The SQL inside template literals of a source file that create tables or indexes. */
function codeDdl(file: string): string[] {
  const literals = [...read(file).matchAll(/`([^`]*\bCREATE (?:TABLE|INDEX)[^`]*)`/g)];
  return statements(literals.map((m) => m[1]).join(';'));
}

/** The ```sql blocks of a doc that create tables or indexes. */
function docDdl(file: string): string[] {
  const blocks = [...read(file).matchAll(/```sql\n([\s\S]*?)```/g)];
  return statements(blocks.map((m) => m[1]).join(';'));
}

describe('Durable Object storage documented as created', () => {
  it.each([
    ['Metrics', 'src/metrics/metrics-object.ts', 'docs/metrics.md'],
    ['RateLimiter', 'src/rate-limit/rate-limiter.ts', 'docs/rate-limit.md'],
  ])('%s: %s and %s hold the same DDL', (_name, code, doc) => {
    const fromCode = codeDdl(code);
    expect(fromCode.length).toBeGreaterThan(0);
    expect(docDdl(doc)).toEqual(fromCode);
  });
});

describe('D1 vocabularies', () => {
  /** The value lists of every `CHECK (<column> IN (…))` in the migrations. */
  function checkLists(column: string): string[][] {
    const dir = path.join(ROOT, 'migrations');
    const re = new RegExp(`CHECK \\(${column} IN \\(([^)]*)\\)\\)`, 'g');
    return readdirSync(dir)
      .filter((f) => f.endsWith('.sql'))
      .flatMap((f) => [...read(`migrations/${f}`).matchAll(re)])
      .map((m) => m[1]!.split(',').map((v) => v.trim().replace(/^'|'$/g, '')));
  }

  it.each([
    ['via', AUDIT_VIAS],
    ['reason', DEAD_LETTER_REASONS],
  ] as const)('every CHECK (%s IN (…)) in the migrations is the code’s list', (column, values) => {
    const lists = checkLists(column);
    expect(lists.length).toBeGreaterThan(0);
    for (const list of lists) expect(list).toEqual([...values]);
  });
});
