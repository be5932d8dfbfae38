/**
 * The Durable Objects' SQLite schemas are written in their code and shown in docs/ for readers;
 * the two must be the same statements (comments, layout and IF NOT EXISTS aside), so the doc can
 * never describe a table the code does not create.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

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
