/**
 * Every relative link in README.md and docs/ resolves: the file exists, and a `#fragment` names a
 * heading of the target (GitHub's anchor rules). External links are not fetched (no network).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

function markdownFiles(): string[] {
  const docs = readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

/** GitHub's heading anchors: lower-cased, punctuation dropped, spaces → `-`, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = !fenced && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** `[text](target)` links outside code, with their line numbers. */
function links(markdown: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  let fenced = false;
  markdown.split('\n').forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) return;
    const prose = line.replace(/`[^`]*`/g, '');
    for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      out.push({ target: m[1]!, line: i + 1 });
    }
  });
  return out;
}

describe('relative links in README.md and docs/', () => {
  const files = markdownFiles();

  it('finds links to check (the test can fail)', () => {
    const total = files.reduce(
      (n, f) => n + links(readFileSync(path.join(ROOT, f), 'utf8')).length,
      0,
    );
    expect(total).toBeGreaterThan(10);
    expect(anchors('# A `b` (c/d.e)\n## Same\n## Same\n')).toEqual(
      new Set(['a-b-cde', 'same', 'same-1']),
    );
  });

  it.each(files)('%s: every relative link resolves', (file) => {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    const broken: string[] = [];
    for (const { target, line } of links(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …
      const [rel, fragment] = target.split('#', 2) as [string, string | undefined];
      const resolved = rel
        ? path.resolve(path.dirname(path.join(ROOT, file)), rel)
        : path.join(ROOT, file);
      if (!resolved.startsWith(ROOT) || !existsSync(resolved)) {
        broken.push(`${file}:${line} ${target} (no such file)`);
        continue;
      }
      if (fragment && statSync(resolved).isFile() && resolved.endsWith('.md')) {
        if (!anchors(readFileSync(resolved, 'utf8')).has(decodeURIComponent(fragment))) {
          broken.push(`${file}:${line} ${target} (no heading #${fragment})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('README.md fits on a screen', () => {
  const lines = readFileSync(path.join(ROOT, 'README.md'), 'utf8').trimEnd().split('\n');
  it('is at most 250 lines (detail lives in docs/)', () => {
    expect(lines.length).toBeLessThanOrEqual(250);
  });
  it('names every src/ folder in its layout table', () => {
    const folders = readdirSync(path.join(ROOT, 'src'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => `src/${d.name}/`);
    expect(folders.filter((f) => !lines.some((l) => l.startsWith(`| \`${f}\``)))).toEqual([]);
  });
  it('has no line over 120 characters', () => {
    expect(lines.filter((l) => [...l].length > 120)).toEqual([]);
  });
});
