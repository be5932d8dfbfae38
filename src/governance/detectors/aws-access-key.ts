/**
 * AWS access key IDs: a 4-letter type prefix (AKIA long-term, ASIA temporary, ABIA, ACCA) and 16
 * upper-case letters or digits, 20 characters in all, standing alone. The documented example key
 * `AKIAIOSFODNN7EXAMPLE` (and any `…EXAMPLE` key) is not reported.
 */
import { isAsciiAlnum, isDigit, isUpper } from './text';
import { readRun, scanPrefix } from './token-scan';
import type { Detection, Detector } from './types';

const PREFIXES = ['AKIA', 'ASIA', 'ABIA', 'ACCA'] as const;

function isKeyChar(c: number): boolean {
  return isUpper(c) || isDigit(c);
}

export const awsAccessKey: Detector = {
  type: 'secret_aws_access_key',
  category: 'secret',
  scan(text: string, out: Detection[]): void {
    for (const prefix of PREFIXES) {
      scanPrefix(
        text,
        prefix,
        isAsciiAlnum,
        (start, body) => {
          const e = readRun(text, body, 16, 16, isKeyChar);
          if (e < 0 || isAsciiAlnum(text.charCodeAt(e))) return -1;
          return text.endsWith('EXAMPLE', e) ? -1 : e;
        },
        (start, end) => out.push({ type: 'secret_aws_access_key', start, end }),
      );
    }
  },
};
