/**
 * The governance pipeline: runs the registered checks stage by stage (`validation`, then
 * `scoring`), times each stage, and turns their outcomes into a decision. Rate limiting
 * (before) and audit logging (after) are stages too, run by the route because they do I/O.
 */
import { checks as registry } from './checks';
import { redact } from '../pii';
import { pointer, rebuild, type Segment } from './content';
import { redactJson } from './json-text';
import { REASONS, type Reason } from './reasons';
import type { Check, CheckRequestInput, CheckSubject, Finding, Stage } from './types';

const SURROGATE = /[\uD800-\uDFFF]/;

export interface Evaluation {
  allowed: boolean;
  /** Sorted in the vocabulary's order, without duplicates. */
  reasons: Reason[];
  findings: Finding[];
  /**
   * The checked value, same shape, with every `redact` finding replaced by `[TYPE]`; null unless
   * something was redacted.
   */
  redacted: CheckRequestInput | null;
  /** Milliseconds per stage. */
  timings: Record<Stage, number>;
}

/** Length in Unicode code points (what Python's len() would say for the original service). */
export function codePointLength(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

export function evaluate(
  subject: CheckSubject,
  input: CheckRequestInput,
  checks: readonly Check[] = registry,
): Evaluation {
  const reasons = new Set<Reason>();
  const findings: Finding[] = [];
  const timings: Record<Stage, number> = { validation: 0, scoring: 0 };

  for (const stage of ['validation', 'scoring'] as const) {
    // Scanning an input the policy already refuses as too large is wasted CPU.
    if (stage === 'scoring' && reasons.has('input_too_large')) break;
    const started = performance.now();
    for (const check of checks) {
      if (check.stage !== stage) continue;
      const outcome = check.run(subject);
      for (const r of outcome.reasons) reasons.add(r);
      findings.push(...outcome.findings);
    }
    timings[stage] = performance.now() - started;
  }

  const sortedReasons = REASONS.filter((r) => reasons.has(r));
  const allowed = sortedReasons.length === 0;
  const redacted =
    allowed && findings.some((f) => f.action === 'redact')
      ? redactValue(input, subject.segments, findings)
      : null;
  return { allowed, reasons: sortedReasons, findings, redacted, timings };
}

function redactValue(
  value: CheckRequestInput,
  segments: readonly Segment[],
  findings: readonly Finding[],
): CheckRequestInput {
  const replacements: Array<{ segment: Segment; text: string }> = [];
  for (const segment of segments) {
    const at = pointer(segment.path);
    // Findings carry code-point offsets; redaction works on UTF-16 strings, so convert back
    // (with one map per segment: a segment may carry thousands of findings).
    const toUtf16 = utf16Offsets(segment.text);
    const spans = findings
      .filter((f) => f.action === 'redact' && f.path === at)
      .map((f) => ({ type: f.type, start: toUtf16(f.start), end: toUtf16(f.end) }));
    if (spans.length === 0) continue;
    const text =
      segment.kind === 'text' ? redact(segment.text, spans) : redactJson(segment.text, spans);
    replacements.push({ segment, text });
  }
  return rebuild(value, replacements) as CheckRequestInput;
}

/**
 * Maps code-point offsets of `text` to UTF-16 offsets, built once per segment (a segment may
 * carry thousands of findings).
 */
function utf16Offsets(text: string): (codePoint: number) => number {
  if (!SURROGATE.test(text)) return (cp) => cp;
  const map: number[] = [];
  for (let i = 0; i < text.length; i++) {
    map.push(i);
    const c = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
  }
  map.push(text.length);
  return (cp) => map[cp] ?? text.length;
}
