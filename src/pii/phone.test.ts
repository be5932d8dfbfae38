/** Phone numbers: Norwegian layouts and context, E.164 with an assigned country code. */
import { describe, expect, it } from 'vitest';
import { scanText } from './index';

/** The findings of `text` as `type:value` strings, easy to read in a table. */
function found(text: string): string[] {
  return scanText(text).map((d) => `${d.type}:${text.slice(d.start, d.end)}`);
}

describe('phone numbers', () => {
  it.each<[string, string[]]>([
    ['Ring 912 34 567', ['phone:912 34 567']],
    ['Tlf: 22 33 44 55', ['phone:22 33 44 55']],
    ['+47 912 34 567', ['phone:+47 912 34 567']],
    ['+4791234567', ['phone:+4791234567']],
    ['0047 91234567', ['phone:0047 91234567']],
    ['mobil 41234567', ['phone:41234567']],
    ['Call +1 415 555 2671', ['phone:+1 415 555 2671']],
    ['+44 20 7946 0958', ['phone:+44 20 7946 0958']],
    ['+46 8 123 456 78', ['phone:+46 8 123 456 78']],
    ['Telefonnummer: 004741234567', ['phone:004741234567']],
    ['Mobil 412-34-567', ['phone:412-34-567']],
    ['tlf 41-23-45-67', ['phone:41-23-45-67']],
    ['tlf.nr.: 41234567', ['phone:41234567']],
    ['Faks 22 33 44 56', ['phone:22 33 44 56']],
    ['91234567', []],
    ['Dato 20240115', []],
    ['tlf 12345678', []],
    ['+47 12345678', []],
    ['kr 22 33 44 55', []],
    ['3+4791234567', []],
    ['+1 015 555 2671', []],
    ['Varenr 412-34-567', []],
    ['Kode 412-34-567', []],
    ['Ordre 004741234567', []],
    ['004712345678', []],
  ])('%s', (text, expected) => {
    expect(found(text)).toEqual(expected);
  });
});
