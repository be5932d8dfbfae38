// The hand-written labelled set for the person_name and postal_address detectors
// (test/fixtures/names-addresses/*.txt) and its scoring, shared by the test
// (test/node/names-addresses-set.test.ts) and `npm run bench:detectors`.
//
// File format: `#` lines are comments; documents are separated by lines of `---` (or, after a line
// `@lines`, every line is a document); `[[…]]` marks a person name and `{{…}}` a postal address.
// A file name is `<genre>.<split>.txt` (`dev` = what the detectors were tuned on, `test` = written
// before tuning and scored as is) or `<genre>.txt` (dev).
import { readdirSync, readFileSync } from 'node:fs';

const DIR = new URL('../test/fixtures/names-addresses/', import.meta.url);
export const TYPES = ['person_name', 'postal_address'];

/** Strips the markup of one document; returns its text and labels (UTF-16 offsets). */
export function parseDocument(marked) {
  let text = '';
  const labels = [];
  let i = 0;
  while (i < marked.length) {
    const two = marked.slice(i, i + 2);
    const close = two === '[[' ? ']]' : two === '{{' ? '}}' : null;
    if (!close) {
      text += marked[i++];
      continue;
    }
    const j = marked.indexOf(close, i + 2);
    if (j < 0) throw new Error(`unclosed ${two} in: ${marked.slice(i, i + 40)}`);
    const inner = marked.slice(i + 2, j);
    labels.push({
      type: two === '[[' ? 'person_name' : 'postal_address',
      start: text.length,
      end: text.length + inner.length,
    });
    text += inner;
    i = j + 2;
  }
  return { text, labels };
}

/** Every document of the set: { id, genre, split, text, labels }. */
export function loadLabelledSet() {
  const docs = [];
  for (const file of readdirSync(DIR).sort()) {
    if (!file.endsWith('.txt')) continue;
    const [genre, split] = file.replace(/\.txt$/, '').split('.');
    const body = readFileSync(new URL(file, DIR), 'utf8');
    const content = body
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .join('\n');
    const lines = content.includes('@lines\n');
    const parts = lines ? content.split('@lines\n')[1].split('\n') : content.split(/\n---\n/);
    parts
      .map((p) => p.trim())
      .filter(Boolean)
      .forEach((p, k) =>
        docs.push({ id: `${file}#${k + 1}`, genre, split: split ?? 'dev', ...parseDocument(p) }),
      );
  }
  return docs;
}

/**
 * Precision and recall per type over `docs`, exact type and span (`strict`) and by overlap
 * (`overlap`: a label counts as found when a finding of its type overlaps it; a finding counts as
 * right when it overlaps a label of its type). `scan(text)` returns findings {type,start,end}.
 * Also: the share of documents without an address label that get an address finding.
 */
export function scoreSet(docs, scan) {
  const result = {};
  for (const type of TYPES) {
    const c = { labels: 0, findings: 0, exact: 0, labelHit: 0, findingHit: 0, fp: [], fn: [] };
    let negDocs = 0;
    let negDocsHit = 0;
    for (const d of docs) {
      const want = d.labels.filter((l) => l.type === type);
      const got = scan(d.text).filter((f) => f.type === type);
      const overlaps = (a, b) => a.start < b.end && b.start < a.end;
      c.labels += want.length;
      c.findings += got.length;
      for (const l of want) {
        if (got.some((f) => f.start === l.start && f.end === l.end)) c.exact++;
        if (got.some((f) => overlaps(f, l))) c.labelHit++;
        else c.fn.push(`${d.id}: ${d.text.slice(l.start, l.end)}`);
      }
      for (const f of got) {
        if (want.some((l) => overlaps(f, l))) c.findingHit++;
        else c.fp.push(`${d.id}: ${d.text.slice(f.start, f.end)}`);
      }
      if (want.length === 0) {
        negDocs++;
        if (got.length > 0) negDocsHit++;
      }
    }
    result[type] = {
      labels: c.labels,
      findings: c.findings,
      strict: {
        precision: c.findings ? c.exact / c.findings : 1,
        recall: c.labels ? c.exact / c.labels : 1,
      },
      overlap: {
        precision: c.findings ? c.findingHit / c.findings : 1,
        recall: c.labels ? c.labelHit / c.labels : 1,
      },
      negativeDocs: negDocs,
      negativeDocsWithFinding: negDocsHit,
      falsePositives: c.fp,
      misses: c.fn,
    };
  }
  return result;
}
