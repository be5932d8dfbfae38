import { describe, expect, it } from 'vitest';
import type { FieldError } from '../errors';
import { collectIllFormed, MESSAGES } from './well-formed';

const collect = (value: unknown) => {
  const errors: FieldError[] = [];
  collectIllFormed(value, errors);
  return errors;
};

describe('collectIllFormed', () => {
  it('finds every string and key that is not well-formed, in document order', () => {
    expect(collect({ a: 'ok', 'b\udc00': ['x', 'y\ud800'], c: { d: '\udfff', e: '😀' } })).toEqual([
      { path: '/b\ufffd', message: MESSAGES.key },
      { path: '/b\ufffd/1', message: MESSAGES.string },
      { path: '/c/d', message: MESSAGES.string },
    ]);
    expect(collect(['a', 1, null, true, { x: '\ud83d\ude00' }])).toEqual([]);
  });

  it('walks a 100k-deep body without recursion and reports a bounded pointer', () => {
    const depth = 100_000;
    const value = JSON.parse('['.repeat(depth) + '"\\udc00"' + ']'.repeat(depth)) as unknown;
    const errors = collect(value);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toBe('/0'.repeat(32) + '/…');
  });

  it('reports at most 20 fields', () => {
    expect(collect(Array.from({ length: 50 }, () => '\udc00'))).toHaveLength(20);
  });
});
