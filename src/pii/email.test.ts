/** E-mail addresses. */
import { describe, expect, it } from 'vitest';
import { scanText } from './index';

/** The findings of `text` as `type:value` strings, easy to read in a table. */
function found(text: string): string[] {
  return scanText(text).map((d) => `${d.type}:${text.slice(d.start, d.end)}`);
}

describe('e-mail', () => {
  it.each<[string, string[]]>([
    ['Send til ola.nordmann@example.no.', ['email:ola.nordmann@example.no']],
    ['<Kari+tag@post.example.com>', ['email:Kari+tag@post.example.com']],
    ['icon@2x.png', []],
    ['lodash@4.17.21', []],
    ['ola@localhost', []],
    ['@ola_nordmann', []],
    ['a@-bad.com', []],
  ])('%s', (text, expected) => {
    expect(found(text)).toEqual(expected);
  });
});
