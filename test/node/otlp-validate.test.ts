/**
 * The OTLP payload validator the test collector uses (support/otlp-validate.ts) has teeth: the
 * official example from opentelemetry-proto passes, and each kind of mistake an exporter can
 * make is caught.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateOtlpTraces } from './support/otlp-validate';

const example = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, '../fixtures/otlp/examples/trace.json'), 'utf8'),
) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }> };

const mutated = (change: (span: Record<string, unknown>) => void) => {
  const copy = structuredClone(example);
  change(copy.resourceSpans[0]!.scopeSpans[0]!.spans[0]!);
  return copy;
};

describe('validateOtlpTraces', () => {
  it('accepts the official OTLP trace example', () => {
    expect(validateOtlpTraces(example)).toEqual([]);
  });

  it.each([
    ['an unknown field', (s: Record<string, unknown>) => void (s.durationMs = 3)],
    [
      'a base64 trace id',
      (s: Record<string, unknown>) => void (s.traceId = 'W47/95gDgQPSabYzgT/GDA=='),
    ],
    ['a short span id', (s: Record<string, unknown>) => void (s.spanId = 'eee19b7ec3c1b1')],
    ['an all-zero trace id', (s: Record<string, unknown>) => void (s.traceId = '0'.repeat(32))],
    ['an enum as a string', (s: Record<string, unknown>) => void (s.kind = 'SPAN_KIND_SERVER')],
    ['an enum value that does not exist', (s: Record<string, unknown>) => void (s.kind = 9)],
    [
      'a timestamp with a fraction',
      (s: Record<string, unknown>) => void (s.startTimeUnixNano = '1.5'),
    ],
    ['a name that is not a string', (s: Record<string, unknown>) => void (s.name = 7)],
    [
      'an attribute value with two members of its oneof',
      (s: Record<string, unknown>) =>
        void (s.attributes = [{ key: 'k', value: { stringValue: 'a', intValue: '1' } }]),
    ],
    ['attributes that are not an array', (s: Record<string, unknown>) => void (s.attributes = {})],
  ])('refuses %s', (_name, change) => {
    expect(validateOtlpTraces(mutated(change)).length).toBeGreaterThan(0);
  });
});
