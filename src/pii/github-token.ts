/**
 * GitHub tokens: `ghp_` (personal), `gho_` (OAuth), `ghu_` (user-to-server), `ghs_`
 * (server-to-server), `ghr_` (refresh) + 36 alphanumerics; fine-grained `github_pat_` + 22
 * alphanumerics + `_` + 59 alphanumerics.
 *
 * Anchored on `_`, which is rare in prose (searching for `gh` would stop at every "right").
 */
import { UNDERSCORE } from './anchors';
import { isAsciiAlnum } from './text';
import { eachPosition, isAlnumOrUnderscore, readRun } from './token-scan';
import type { Detector, Work } from './types';

/** The token end for an underscore at `p`, or -1. */
function matchAt(text: string, p: number, work: Work): [number, number] | null {
  const c1 = text.charCodeAt(p - 1);
  // ghp_ gho_ ghu_ ghs_ ghr_
  if (c1 === 112 || c1 === 111 || c1 === 117 || c1 === 115 || c1 === 114) {
    const s = p - 3;
    if (text.charCodeAt(s) !== 103 || text.charCodeAt(s + 1) !== 104) return null;
    if (s > 0 && isAlnumOrUnderscore(text.charCodeAt(s - 1))) return null;
    const e = readRun(text, p + 1, 36, 36, isAsciiAlnum, work);
    return e < 0 || text.charCodeAt(e) === 95 ? null : [s, e];
  }
  // github_pat_<22>_<59>
  if (c1 === 98 && text.startsWith('github', p - 6) && text.startsWith('pat_', p + 1)) {
    const s = p - 6;
    if (s > 0 && isAlnumOrUnderscore(text.charCodeAt(s - 1))) return null;
    const mid = readRun(text, p + 5, 22, 22, isAsciiAlnum, work);
    if (mid < 0 || text.charCodeAt(mid) !== 95) return null;
    const e = readRun(text, mid + 1, 59, 59, isAsciiAlnum, work);
    return e < 0 || text.charCodeAt(e) === 95 ? null : [s, e];
  }
  return null;
}

export const githubToken: Detector = {
  types: ['secret_github_token'],
  anchors: [UNDERSCORE],
  scan(text, ctx, out): void {
    eachPosition(ctx.positions(UNDERSCORE), ctx.work, (p) => {
      const m = matchAt(text, p, ctx.work);
      if (!m) return p + 1;
      out.push({ type: 'secret_github_token', start: m[0], end: m[1] });
      return m[1];
    });
  },
};
