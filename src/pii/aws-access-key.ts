/**
 * AWS access key IDs: a 4-letter type prefix (AKIA long-term, ASIA temporary, ABIA, ACCA) and 16
 * upper-case letters or digits, 20 characters in all, standing alone. The documented example key
 * `AKIAIOSFODNN7EXAMPLE` (and any `…EXAMPLE` key) is not reported.
 */
import { isAsciiAlnum, isDigit, isUpper } from './text';
import { tokens } from './numbers';
import { eachPosition, readRun } from './token-scan';
import type { Detection, Detector } from './types';

function isKeyChar(c: number): boolean {
  return isUpper(c) || isDigit(c);
}

export const awsAccessKey: Detector = {
  type: 'secret_aws_access_key',
  category: 'secret',
  scan(text: string, out: Detection[]): void {
    // Positions of AKIA/ASIA/ABIA/ACCA (and AIza, skipped here) from the one pass.
    eachPosition(tokens(text).keyPrefixes, (s) => {
      if (text.charCodeAt(s + 1) === 73) return s + 1; // AIza
      if (s > 0 && isAsciiAlnum(text.charCodeAt(s - 1))) return s + 1;
      const e = readRun(text, s + 4, 16, 16, isKeyChar);
      if (e < 0 || isAsciiAlnum(text.charCodeAt(e)) || text.endsWith('EXAMPLE', e)) return s + 1;
      out.push({ type: 'secret_aws_access_key', start: s, end: e });
      return e;
    });
  },
};
