#!/usr/bin/env node
/**
 * Token counting cost (docs/tokens.md "Cost"): first-use load of each encoding, then µs per KB of
 * input for English and Norwegian prose, TypeScript, JSON and base64, counted exactly as
 * /v1/check counts (src/tokens/count.ts, bundled by esbuild as wrangler does). Node runs V8 like
 * workerd; figures are medians of 7 rounds after a warm-up, on whatever load the machine has.
 *
 *   npm run bench:tokens
 */
import { build } from 'esbuild';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(path.join(tmpdir(), 'vakt-bench-tokens-'));
const out = path.join(dir, 'count.mjs');
await build({
  entryPoints: [path.join(root, 'src/tokens/count.ts')],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  outfile: out,
  logLevel: 'error',
});
const { counter, countText } = await import(pathToFileURL(out).href);

const corpus = JSON.parse(
  readFileSync(path.join(root, 'test/fixtures/corpus/corpus.json'), 'utf8'),
);
const prose = (lang) =>
  corpus.records
    .filter((r) => r.lang === lang)
    .map((r) => r.text)
    .join(' ');
const KB = 64 * 1024;
const fill = (s) => s.repeat(Math.ceil(KB / s.length)).slice(0, KB);
const inputs = {
  'English prose': fill(prose('en')),
  'Norwegian prose': fill(prose('no')),
  TypeScript: fill(readFileSync(path.join(root, 'src/governance/content.ts'), 'utf8')),
  JSON: fill(JSON.stringify(corpus.records)),
  base64: fill(Buffer.from(readFileSync(path.join(root, 'package-lock.json'))).toString('base64')),
};

const rows = [];
for (const encoding of ['cl100k_base', 'o200k_base']) {
  const t0 = performance.now();
  const count = await counter(encoding);
  count('warm');
  const load = performance.now() - t0;
  rows.push([`${encoding} first use (import + tables)`, `${load.toFixed(0)} ms`, '']);
  for (const [name, text] of Object.entries(inputs)) {
    countText(count, text);
    const times = [];
    let tokens = 0;
    for (let i = 0; i < 7; i++) {
      const s = performance.now();
      tokens = countText(count, text);
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    const kb = Buffer.byteLength(text) / 1024;
    rows.push([
      `${encoding} ${name}`,
      `${((times[3] * 1000) / kb).toFixed(0)} µs/KB`,
      `${(Buffer.byteLength(text) / tokens).toFixed(2)} bytes/token`,
    ]);
  }
}
rmSync(dir, { recursive: true, force: true });
console.log('| what | cost | density |\n| --- | --- | --- |');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
