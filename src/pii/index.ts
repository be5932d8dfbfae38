/**
 * The detector registry and the two operations the pipeline needs: scan text once with every
 * detector, and redact a text given its detections.
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
import { releaseTokens } from './numbers';
import { organisasjonsnummer } from './organisasjonsnummer';
import { paymentCard } from './payment-card';
import { phone } from './phone';
import { privateKey } from './private-key';
import { slackToken } from './slack-token';
import { stripeKey } from './stripe-key';
import type { Detection, Detector } from './types';

export * from './types';
export { work } from './text';

/** Registered detectors, in the order they run. A new detector is one module plus one line here. */
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

/** Every validated detection in `text`, sorted by start offset (then longest first). */
export function scanText(text: string): Detection[] {
  const out: Detection[] = [];
  try {
    for (const d of detectors) d.scan(text, out);
  } finally {
    // The numeric detectors share one tokenization of `text`; do not keep it alive.
    releaseTokens();
  }
  out.sort((a, b) => a.start - b.start || b.end - a.end);
  return dropGenericDuplicates(out);
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
  const sorted = [...detections].sort((a, b) => a.start - b.start || b.end - a.end);
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
