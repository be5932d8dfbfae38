/**
 * The PII engine: the detector registry and the two operations its users need — scan a text once
 * with every detector, and redact a text given its detections.
 *
 * A scan normalises the text (`normalize.ts`), walks it once (`numbers.ts`: digit groups and the
 * anchors the registered detectors declare), runs every detector over that index, offers the
 * numeric detectors the sub-runs of digit groups nothing matched as a whole, and maps the
 * findings back to offsets in the original text. No state outlives a scan: the index and the
 * work counter travel in the context the engine passes to each detector.
 */
import { awsAccessKey } from './aws-access-key';
import { email } from './email';
import { fodselsnummer } from './fodselsnummer';
import { genericSecret } from './generic-secret';
import { githubToken } from './github-token';
import { googleApiKey } from './google-api-key';
import { iban } from './iban';
import { ipAddress } from './ip-address';
import { jwt } from './jwt';
import { kontonummer } from './kontonummer';
import { namesAndAddresses } from './names-addresses';
import { normalize, type OffsetMap } from './normalize';
import { anchorTable, tokenize } from './numbers';
import { organisasjonsnummer } from './organisasjonsnummer';
import { paymentCard } from './payment-card';
import { phone } from './phone';
import { privateKey } from './private-key';
import { slackToken } from './slack-token';
import { stripeKey } from './stripe-key';
import type { Detection, Detector, Work } from './types';

export * from './types';

/**
 * Registered detectors, in the order they run. A new detector is one module (exporting a
 * {@link Detector}) plus one line here; a new finding type also adds its name to
 * `PERSONAL_DATA_TYPES` or `SECRET_TYPES` in `types.ts`, the vocabulary policies use.
 */
export const detectors: readonly Detector[] = [
  fodselsnummer,
  kontonummer,
  organisasjonsnummer,
  iban,
  paymentCard,
  phone,
  ipAddress,
  email,
  privateKey,
  jwt,
  awsAccessKey,
  githubToken,
  slackToken,
  stripeKey,
  googleApiKey,
  genericSecret,
  namesAndAddresses,
];

/**
 * Every validated detection in `text`, sorted by start offset (then longest first), with UTF-16
 * offsets into `text` itself.
 */
export function scanText(text: string): Detection[] {
  return scan(text, { steps: 0 });
}

/** A scan with an explicit work counter: `work.steps` receives the characters it examined. */
export type Scan = (text: string, work: Work) => Detection[];

/**
 * The engine over `registry`: the one pass's anchor table is built once, here. The benchmark
 * uses it to time a part of the registry (e.g. without names and addresses) in the same run.
 */
export function scannerOf(registry: readonly Detector[]): Scan {
  const table = anchorTable(
    registry.flatMap((d) => d.anchors ?? []),
    registry.some((d) => d.capitals),
  );
  const numeric = registry.filter((d) => d.numeric);
  return (text, work) => {
    let t = text;
    let map: OffsetMap | null = null;
    let ctx = tokenize(text, table, work, true);
    if (!ctx) {
      const norm = normalize(text, work);
      t = norm.text;
      map = norm.map;
      ctx = tokenize(t, table, work, false)!;
    }
    let out: Detection[] = [];
    for (const d of registry) d.scan(t, ctx, out);
    out.sort(byStart);
    const subs = ctx.subRuns(out);
    if (subs) {
      const more: Detection[] = [];
      for (const d of numeric) d.scan(t, subs, more);
      if (more.length > 0) out = merge(out, firstFit(more.sort(byStart)));
    }
    const found = dropGenericDuplicates(out);
    if (!map) return found;
    return found.map((d) => ({ type: d.type, start: map.start(d.start), end: map.end(d.end) }));
  };
}

/**
 * {@link scanText} with an explicit work counter: `work.steps` receives the characters the scan
 * examined (the linear-time tests count with it).
 */
export const scan: Scan = scannerOf(detectors);

function byStart(a: Detection, b: Detection): number {
  return a.start - b.start || b.end - a.end;
}

/** Merges two lists sorted by {@link byStart}. */
function merge(a: readonly Detection[], b: readonly Detection[]): Detection[] {
  const out: Detection[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(byStart(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!);
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

/** Sub-run findings, left to right: the first (longest) that fits wins, overlaps are dropped. */
function firstFit(sorted: readonly Detection[]): Detection[] {
  const kept: Detection[] = [];
  let end = -1;
  for (const d of sorted) {
    if (d.start < end) continue;
    kept.push(d);
    end = d.end;
  }
  return kept;
}

/**
 * `api_key="sk_live_…"` is found twice: as a Stripe key and as a generic assignment. The specific
 * finding is kept and the generic one overlapping it dropped. `sorted` is sorted by start.
 */
function dropGenericDuplicates(sorted: Detection[]): Detection[] {
  let generic = false;
  for (const d of sorted) if (d.type === 'secret_generic') generic = true;
  if (!generic) return sorted;
  const kept: Detection[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const d = sorted[i]!;
    if (d.type === 'secret_generic') {
      const prev = kept[kept.length - 1];
      const next = sorted[i + 1];
      if (prev && prev.end > d.start && prev.type !== 'secret_generic') continue;
      if (next && next.start < d.end && next.type !== 'secret_generic') continue;
    }
    kept.push(d);
  }
  return kept;
}

/**
 * Replaces each detection with `[TYPE]`. Overlapping detections are merged into one span that
 * takes the label of the detection that starts first (the longest, on a tie).
 */
export function redact(text: string, detections: readonly Detection[]): string {
  if (detections.length === 0) return text;
  const sorted = [...detections].sort(byStart);
  let result = '';
  let cursor = 0;
  let i = 0;
  while (i < sorted.length) {
    const first = sorted[i]!;
    let end = first.end;
    i++;
    while (i < sorted.length && sorted[i]!.start < end) {
      end = Math.max(end, sorted[i]!.end);
      i++;
    }
    result += text.slice(cursor, first.start) + `[${first.type.toUpperCase()}]`;
    cursor = end;
  }
  return result + text.slice(cursor);
}
