/**
 * Personal data and secrets: every detector over every text segment of the checked value. A
 * finding whose policy action is `block` blocks the call with `contains_personal_data` or
 * `contains_secret`.
 */
import { categoryOf, scanText, type Detection } from '../../pii';
import { pointer, type Segment } from '../content';
import { scanJson } from '../json-text';
import { actionFor } from '../policy';
import type { Reason } from '../reasons';
import type { Check, Finding } from '../types';

const SURROGATE = /[\uD800-\uDFFF]/;

export const detectorsCheck: Check = {
  stage: 'scoring',
  run({ segments, policy }) {
    const findings: Finding[] = [];
    const reasons = new Set<Reason>();
    for (const segment of segments) {
      const { text, messageIndex } = segment;
      const detections = scanSegment(segment);
      if (detections.length === 0) continue;
      const toCodePoints = SURROGATE.test(text) ? codePointOffsets(text) : null;
      for (const d of detections) {
        const action = actionFor(policy, d.type);
        if (action === 'block') {
          reasons.add(
            categoryOf(d.type) === 'secret' ? 'contains_secret' : 'contains_personal_data',
          );
        }
        findings.push({
          type: d.type,
          start: toCodePoints ? toCodePoints(d.start) : d.start,
          end: toCodePoints ? toCodePoints(d.end) : d.end,
          action,
          path: pointer(segment.path),
          ...(messageIndex === null ? {} : { message_index: messageIndex }),
        });
      }
    }
    return { reasons: [...reasons], findings };
  },
};

/** Detections in one segment, in UTF-16 offsets into its text. */
export function scanSegment(segment: Segment): Detection[] {
  return (segment.kind !== 'text' && scanJson(segment.text)) || scanText(segment.text);
}

/** Maps UTF-16 indices of `text` to code-point indices (only built when surrogates are present). */
function codePointOffsets(text: string): (utf16: number) => number {
  const map = new Uint32Array(text.length + 1);
  let cp = 0;
  for (let i = 0; i < text.length; i++) {
    map[i] = cp;
    const c = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point: both indices map to it.
    const next = text.charCodeAt(i + 1);
    const pairStart = c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
    if (!pairStart) cp++;
  }
  map[text.length] = cp;
  return (i) => map[i] ?? cp;
}
