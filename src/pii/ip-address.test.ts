/** IP addresses: IPv4/IPv6 syntax, and the version strings, times and MACs that are not. */
import { describe, expect, it } from 'vitest';
import { scanText } from './index';
import { isIPv4, isIPv6 } from './ip-address';

/** The findings of `text` as `type:value` strings, easy to read in a table. */
function found(text: string): string[] {
  return scanText(text).map((d) => `${d.type}:${text.slice(d.start, d.end)}`);
}

describe('IP addresses', () => {
  it('validates IPv4 and IPv6 syntax', () => {
    expect(isIPv4('192.168.1.10')).toBe(true);
    expect(isIPv4('256.1.1.1')).toBe(false);
    expect(isIPv4('01.2.3.4')).toBe(false);
    expect(isIPv6('2001:db8::1')).toBe(true);
    expect(isIPv6('2001:0db8:85a3:0000:0000:8a2e:0370:7334')).toBe(true);
    expect(isIPv6('::ffff:192.0.2.1')).toBe(true);
    expect(isIPv6('1::2::3')).toBe(false);
    expect(isIPv6('12:30:45')).toBe(false);
  });
  it.each<[string, string[]]>([
    ['from 192.168.1.10:8080', ['ip_address:192.168.1.10']],
    ['net 10.0.0.0/8', ['ip_address:10.0.0.0']],
    ['host 2001:db8::1.', ['ip_address:2001:db8::1']],
    ['DNS 1.1.1.1', ['ip_address:1.1.1.1']],
    ['Windows 10.0.19045.3803', []],
    ['version 2.4.1.0', []],
    ['v1.2.3.4', []],
    ['1.2.3.4', []],
    ['kl 12:30:45', []],
    ['MAC 00:1a:2b:3c:4d:5e', []],
    ['std::vector<int>', []],
    ['pi 3.14159', []],
  ])('%s', (text, expected) => {
    expect(found(text)).toEqual(expected);
  });
});
