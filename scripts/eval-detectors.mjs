#!/usr/bin/env node
// Precision and recall per type of a checkout of the PII engine on this checkout's labelled
// corpora (test/fixtures/corpus/: the generated corpus.json, the hand-written set and the held-out
// set), scored
// exactly like src/pii/corpus.test.ts scores the current engine.
//
//   node scripts/eval-detectors.mjs                      # this checkout's engine
//   node scripts/eval-detectors.mjs --engine <dir>       # e.g. a checkout of main, for "before"
//   node scripts/eval-detectors.mjs --misses             # also list misses and false positives
//   node scripts/eval-detectors.mjs --prose <files…>     # only: every person_name/postal_address
//                                                        # found in unlabelled text (e.g. English
//                                                        # Markdown), to diff two --engine runs
//
// Prints the Markdown table docs/detectors.md holds (per type, both corpora) and the
// hard-negative figures.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log(
    readFileSync(fileURLToPath(import.meta.url), 'utf8')
      .split('\n')
      .slice(1, 13)
      .join('\n'),
  );
  process.exit(0);
}
const root = fileURLToPath(new URL('..', import.meta.url));
const i = args.indexOf('--engine');
const engine = i >= 0 ? args[i + 1] : root;

const entry = `
export { scanText, DETECTOR_TYPES } from ${JSON.stringify(`${engine}/src/pii/index.ts`)};
export { parseHandwritten, score, figures } from ${JSON.stringify(`${root}/test/fixtures/corpus/score.ts`)};
`;
const bundle = await build({
  stdin: { contents: entry, resolveDir: root, loader: 'ts' },
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  write: false,
  logLevel: 'warning',
});
const m = await import(
  `data:text/javascript;base64,${Buffer.from(bundle.outputFiles[0].text).toString('base64')}`
);

// `--prose <files…>`: the names and addresses found in unlabelled text, one per line, so the output
// of two engines can be diffed (text a rule change should not touch: English technical prose).
const p = args.indexOf('--prose');
if (p >= 0) {
  let total = 0;
  for (const file of args.slice(p + 1).filter((a) => !a.startsWith('--'))) {
    const text = readFileSync(file, 'utf8');
    for (const d of m.scanText(text)) {
      if (d.type !== 'person_name' && d.type !== 'postal_address') continue;
      total++;
      console.log(`${file}\t${d.type}\t${JSON.stringify(text.slice(d.start, d.end))}`);
    }
  }
  console.log(`${total} findings`);
  process.exit(0);
}

const read = (name) => JSON.parse(readFileSync(`${root}/test/fixtures/corpus/${name}`, 'utf8'));
const generated = read('corpus.json');
const corpora = [
  ['generated', generated.records],
  ['hand-written', m.parseHandwritten(read('handwritten.json').records)],
];
const types = generated.types;

const scores = corpora.map(([, records]) => m.score(records, types, m.scanText));
const labelled = (records, t) =>
  records.reduce((n, r) => n + r.labels.filter((l) => l.type === t).length, 0);

console.log(`Engine: ${engine}\n`);
console.log(
  '| type | generated: labels | precision | recall | hand-written: labels | precision | recall |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const t of types) {
  const cells = corpora.flatMap(([, records], k) => {
    const f = m.figures(scores[k].perType.get(t));
    return [String(labelled(records, t)), f.precision, f.recall];
  });
  console.log(`| \`${t}\` | ${cells.join(' | ')} |`);
}
const [g, h] = scores;
console.log(
  `\n${g.negatives} generated and ${h.negatives} hand-written hard negatives and near misses, ${g.negativesHit} and ${h.negativesHit} with a finding.`,
);
// The held-out set (heldout.json): written after the engine was tuned, scored on its own.
const held = m.parseHandwritten(read('heldout.json').records);
const ho = m.score(held, types, m.scanText);
console.log('\n| type | held-out: labels | precision | recall |');
console.log('|---|---:|---:|---:|');
for (const t of types) {
  const c = ho.perType.get(t);
  if (labelled(held, t) === 0 && c.fp === 0) continue;
  const f = m.figures(c);
  console.log(`| \`${t}\` | ${labelled(held, t)} | ${f.precision} | ${f.recall} |`);
}
console.log(`\n${ho.negatives} held-out hard negatives, ${ho.negativesHit} with a finding.`);
if (args.includes('--misses')) {
  for (const x of ho.misses) console.log(`  held-out miss: ${x}`);
  for (const x of ho.falsePositives) console.log(`  held-out false positive: ${x}`);
  corpora.forEach(([name], k) => {
    for (const x of scores[k].misses) console.log(`  ${name} miss: ${x}`);
    for (const x of scores[k].falsePositives) console.log(`  ${name} false positive: ${x}`);
  });
}
