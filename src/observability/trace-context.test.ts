import { describe, expect, it } from 'vitest';
import {
  formatTraceparent,
  MAX_TRACESTATE_MEMBERS,
  newSpanId,
  newTraceId,
  parseTraceparent,
  parseTracestate,
  sampledAt,
} from './trace-context';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

describe('parseTraceparent', () => {
  it('reads a version-00 header (the spec example)', () => {
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-01`)).toEqual({
      traceId: TRACE,
      parentId: PARENT,
      flags: 1,
    });
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-00`)?.flags).toBe(0);
    // Unknown flag bits are kept; only bit 0 means anything to vakt.
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-09`)?.flags).toBe(9);
  });

  it('reads a future version, ignoring the fields it adds after a dash', () => {
    expect(parseTraceparent(`cc-${TRACE}-${PARENT}-01-what-the-future-holds`)?.traceId).toBe(TRACE);
    expect(parseTraceparent(`01-${TRACE}-${PARENT}-01`)?.parentId).toBe(PARENT);
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['version ff', `ff-${TRACE}-${PARENT}-01`],
    ['uppercase hex', `00-${TRACE.toUpperCase()}-${PARENT}-01`],
    ['uppercase version', `0A-${TRACE}-${PARENT}-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${PARENT}-01`],
    ['all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['short trace id', `00-${TRACE.slice(1)}-${PARENT}-01`],
    ['long parent id', `00-${TRACE}-${PARENT}0-01`],
    ['version 00 with trailing data', `00-${TRACE}-${PARENT}-01-extra`],
    ['version 00 with trailing space', `00-${TRACE}-${PARENT}-01 `],
    ['leading space', ` 00-${TRACE}-${PARENT}-01`],
    ['future version glued to more data', `cc-${TRACE}-${PARENT}-01x`],
    ['wrong separator', `00_${TRACE}-${PARENT}-01`],
    ['non-hex flags', `00-${TRACE}-${PARENT}-0g`],
    ['non-hex trace id', `00-${TRACE.slice(0, 31)}z-${PARENT}-01`],
    ['two headers combined', `00-${TRACE}-${PARENT}-01, 00-${TRACE}-${PARENT}-01`],
  ])('refuses %s', (_name, value) => {
    expect(parseTraceparent(value)).toBeNull();
  });
});

describe('parseTracestate', () => {
  it('keeps a valid list, normalising whitespace and dropping empty members', () => {
    expect(parseTracestate('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE')).toBe(
      'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
    );
    expect(parseTracestate(' rojo=1 ,\t, congo=2')).toBe('rojo=1,congo=2');
    expect(parseTracestate('tenant1@vendor=a b c')).toBe('tenant1@vendor=a b c');
  });

  it.each([
    ['absent', undefined],
    ['only empty members', ' , '],
    ['a member without =', 'rojo'],
    ['an uppercase key', 'Rojo=1'],
    ['a key starting with a digit', '1rojo=1'],
    ['an empty value', 'rojo='],
    ['a value with =', 'rojo=a=b'],
    ['a non-ASCII value', 'rojo=ø'],
    ['a repeated key', 'rojo=1,rojo=2'],
    ['a system id longer than 14', 'tenant@abcdefghijklmno=1'],
  ])('drops %s', (_name, value) => {
    expect(parseTracestate(value)).toBeNull();
  });

  it(`drops more than ${MAX_TRACESTATE_MEMBERS} members and more than 512 characters`, () => {
    const members = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=v`).join(',');
    expect(parseTracestate(members(MAX_TRACESTATE_MEMBERS))).not.toBeNull();
    expect(parseTracestate(members(MAX_TRACESTATE_MEMBERS + 1))).toBeNull();
    expect(parseTracestate(`a=${'x'.repeat(255)},b=${'y'.repeat(255)}`)).toBeNull();
  });
});

describe('ids and sampling', () => {
  it('mints lowercase hex ids of the right length that parse back', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const t = newTraceId();
      const s = newSpanId();
      expect(t).toMatch(/^[0-9a-f]{32}$/);
      expect(s).toMatch(/^[0-9a-f]{16}$/);
      expect(parseTraceparent(formatTraceparent(t, s, true))).toEqual({
        traceId: t,
        parentId: s,
        flags: 1,
      });
      ids.add(t);
    }
    expect(ids.size).toBe(100);
    expect(formatTraceparent(TRACE, PARENT, false)).toBe(`00-${TRACE}-${PARENT}-00`);
  });

  it('samples roots by the trace id: all at 1, none at 0, about the ratio in between', () => {
    expect(sampledAt(TRACE, 1)).toBe(true);
    expect(sampledAt(TRACE, 0)).toBe(false);
    expect(sampledAt('0'.repeat(24) + '00000001', 0.001)).toBe(true);
    expect(sampledAt('0'.repeat(24) + 'ffffffff', 0.999)).toBe(false);
    let n = 0;
    for (let i = 0; i < 4000; i++) if (sampledAt(newTraceId(), 0.25)) n++;
    expect(n / 4000).toBeGreaterThan(0.2);
    expect(n / 4000).toBeLessThan(0.3);
  });
});
