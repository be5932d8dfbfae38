/** The engine: redaction, offsets, the registry. */
import { describe, expect, it } from 'vitest';
import { DETECTOR_TYPES, detectors, redact, scanText } from './index';

describe('redaction', () => {
  it('replaces each finding with its type', () => {
    const text = 'Fnr 15038500047, e-post ola@example.no, tlf 912 34 567.';
    expect(redact(text, scanText(text))).toBe(
      'Fnr [NO_FODSELSNUMMER], e-post [EMAIL], tlf [PHONE].',
    );
  });
  it('merges overlapping findings into one span labelled by the first', () => {
    const text = '0123456789';
    const out = redact(text, [
      { type: 'phone', start: 2, end: 6 },
      { type: 'email', start: 4, end: 8 },
      { type: 'iban', start: 8, end: 9 },
    ]);
    expect(out).toBe('01[PHONE][IBAN]9');
  });
  it('leaves text without findings untouched', () => {
    expect(redact('hei', [])).toBe('hei');
  });
  it('reports UTF-16 offsets; text after astral characters stays aligned', () => {
    const text = '😀 fnr 15038500047';
    const [d] = scanText(text);
    expect(text.slice(d!.start, d!.end)).toBe('15038500047');
  });
});

describe('registry', () => {
  it('reports every finding type from exactly one registered detector', () => {
    const owners = new Map<string, number>();
    for (const d of detectors) for (const t of d.types) owners.set(t, (owners.get(t) ?? 0) + 1);
    expect(Object.fromEntries(owners)).toEqual(
      Object.fromEntries(DETECTOR_TYPES.map((t) => [t, 1])),
    );
  });

  it('keeps no state between scans: the same text scans the same, interleaved with others', () => {
    const a = 'fnr 01010012356 og kari@example.no';
    const b = 'password=Sommer2024!x, ring 912 34 567';
    const first = scanText(a);
    expect(scanText(b).map((d) => d.type)).toEqual(['secret_generic', 'phone']);
    expect(scanText(a)).toEqual(first);
  });
});
