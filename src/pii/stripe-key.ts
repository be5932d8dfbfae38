/**
 * Stripe secret keys: `sk_live_`/`sk_test_` (secret) and `rk_live_`/`rk_test_` (restricted) +
 * 24 or more alphanumerics. Test-mode keys are reported too: they read and write the account's
 * test data. Publishable keys (`pk_…`) are public by design and not reported.
 *
 * Anchored on `_`, which is rare in prose.
 */
import { UNDERSCORE } from './anchors';
import { isAsciiAlnum } from './text';
import { eachPosition, isAlnumOrUnderscore, readRun } from './token-scan';
import type { Detector, Work } from './types';

function matchAt(text: string, p: number, work: Work): [number, number] | null {
  const c1 = text.charCodeAt(p - 1);
  const c2 = text.charCodeAt(p - 2);
  if (c1 !== 107 || (c2 !== 115 && c2 !== 114)) return null; // sk_ rk_
  const s = p - 2;
  if (s > 0 && isAlnumOrUnderscore(text.charCodeAt(s - 1))) return null;
  if (!text.startsWith('live_', p + 1) && !text.startsWith('test_', p + 1)) return null;
  const e = readRun(text, p + 6, 24, 247, isAsciiAlnum, work);
  return e < 0 || text.charCodeAt(e) === 95 ? null : [s, e];
}

export const stripeKey: Detector = {
  types: ['secret_stripe_key'],
  anchors: [UNDERSCORE],
  scan(text, ctx, out): void {
    eachPosition(ctx.positions(UNDERSCORE), ctx.work, (p) => {
      const m = matchAt(text, p, ctx.work);
      if (!m) return p + 1;
      out.push({ type: 'secret_stripe_key', start: m[0], end: m[1] });
      return m[1];
    });
  },
};
