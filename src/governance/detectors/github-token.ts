/**
 * GitHub tokens: `ghp_` (personal), `gho_` (OAuth), `ghu_` (user-to-server), `ghs_`
 * (server-to-server), `ghr_` (refresh) + 36 alphanumerics; fine-grained `github_pat_` + 22
 * alphanumerics + `_` + 59 alphanumerics.
 */
import { isAsciiAlnum } from './text';
import { isAlnumOrUnderscore, readRun, scanPrefix } from './token-scan';
import type { Detection, Detector } from './types';

const CLASSIC = ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'] as const;

export const githubToken: Detector = {
  type: 'secret_github_token',
  category: 'secret',
  scan(text: string, out: Detection[]): void {
    const push = (start: number, end: number): void => {
      out.push({ type: 'secret_github_token', start, end });
    };
    for (const prefix of CLASSIC) {
      scanPrefix(
        text,
        prefix,
        isAlnumOrUnderscore,
        (_s, body) => {
          const e = readRun(text, body, 36, 36, isAsciiAlnum);
          return e < 0 || isAlnumOrUnderscore(text.charCodeAt(e)) ? -1 : e;
        },
        push,
      );
    }
    scanPrefix(
      text,
      'github_pat_',
      isAlnumOrUnderscore,
      (_s, body) => {
        const mid = readRun(text, body, 22, 22, isAsciiAlnum);
        if (mid < 0 || text.charCodeAt(mid) !== 95) return -1;
        const e = readRun(text, mid + 1, 59, 59, isAsciiAlnum);
        return e < 0 || isAlnumOrUnderscore(text.charCodeAt(e)) ? -1 : e;
      },
      push,
    );
  },
};
