/**
 * One place per setting: the defaults in src/config.ts are the values wrangler.toml ships, every
 * var in wrangler.toml has a default, and the defaults the README's configuration table states
 * are those.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { unstable_readConfig } from 'wrangler';
import { VAR_DEFAULTS } from '../../src/config';

const ROOT = path.resolve(import.meta.dirname, '../..');
const vars = unstable_readConfig({ config: path.join(ROOT, 'wrangler.toml') }).vars as Record<
  string,
  unknown
>;
const defaults = VAR_DEFAULTS as Record<string, unknown>;

describe('configuration defaults', () => {
  it('wrangler.toml [vars] and src/config.ts VAR_DEFAULTS name the same settings', () => {
    expect(Object.keys(vars).sort()).toEqual(Object.keys(defaults).sort());
  });

  it.each(Object.keys(vars))('%s: the config default is the wrangler.toml value', (name) => {
    const shipped = vars[name];
    const fallback = defaults[name];
    // Plain vars are strings in wrangler.toml; tables (DEFAULT_POLICY, KNOWN_MODELS) are objects.
    if (typeof shipped === 'string') expect(String(fallback)).toBe(shipped);
    else expect(fallback).toEqual(shipped);
  });

  it('every default the README configuration table states is the config default', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const stated = new Map(
      [...readme.matchAll(/^\| `([A-Z_]+)`\s*\|[^|]*\|\s*([^|]*?)\s*\|/gm)].map((m) => [
        m[1]!,
        m[2]!,
      ]),
    );
    let checked = 0;
    for (const [name, value] of Object.entries(defaults)) {
      if (typeof value === 'object' || !stated.has(name)) continue;
      expect(stated.get(name), name).toBe(`\`${String(value)}\``);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(10);
  });

  it('the README configuration table lists every setting (OTEL_* in one row)', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const rows = new Set([...readme.matchAll(/^\| `([A-Z_]+\*?)`/gm)].map((m) => m[1]!));
    const missing = Object.keys(defaults).filter(
      (name) => !rows.has(name) && !(name.startsWith('OTEL_') && rows.has('OTEL_*')),
    );
    expect(missing).toEqual([]);
  });
});
