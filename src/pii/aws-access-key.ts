/**
 * AWS access key IDs: a 4-letter type prefix (AKIA long-term, ASIA temporary, ABIA, ACCA) and 16
 * upper-case letters or digits, 20 characters in all, standing alone. The documented example key
 * `AKIAIOSFODNN7EXAMPLE` (and any `…EXAMPLE` key) is not reported.
 */
import { isAsciiAlnum, isDigit, isUpper } from './text';
import { eachPosition, readRun } from './token-scan';
import type { Anchor, Detector } from './types';

function isKeyChar(c: number): boolean {
  return isUpper(c) || isDigit(c);
}

/** `AKIA`, `ASIA`, `ABIA`, `ACCA`. */
const PREFIX: Anchor = { chars: 'A', prefixes: ['AKIA', 'ASIA', 'ABIA', 'ACCA'] };

export const awsAccessKey: Detector = {
  types: ['secret_aws_access_key'],
  anchors: [PREFIX],
  scan(text, ctx, out): void {
    eachPosition(ctx.positions(PREFIX), ctx.work, (s) => {
      if (s > 0 && isAsciiAlnum(text.charCodeAt(s - 1))) return s + 1;
      const e = readRun(text, s + 4, 16, 16, isKeyChar, ctx.work);
      if (e < 0 || isAsciiAlnum(text.charCodeAt(e)) || text.endsWith('EXAMPLE', e)) return s + 1;
      out.push({ type: 'secret_aws_access_key', start: s, end: e });
      return e;
    });
  },
};
