/**
 * Stripe secret keys: `sk_live_`/`sk_test_` (secret) and `rk_live_`/`rk_test_` (restricted) +
 * 24 or more alphanumerics. Test-mode keys are reported too: they read and write the account's
 * test data. Publishable keys (`pk_…`) are public by design and not reported.
 */
import { isAsciiAlnum } from './text';
import { isAlnumOrUnderscore, readRun, scanPrefix } from './token-scan';
import type { Detection, Detector } from './types';

const PREFIXES = ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_'] as const;

export const stripeKey: Detector = {
  type: 'secret_stripe_key',
  category: 'secret',
  scan(text: string, out: Detection[]): void {
    for (const prefix of PREFIXES) {
      scanPrefix(
        text,
        prefix,
        isAlnumOrUnderscore,
        (_s, body) => {
          const e = readRun(text, body, 24, 247, isAsciiAlnum);
          return e < 0 || isAlnumOrUnderscore(text.charCodeAt(e)) ? -1 : e;
        },
        (start, end) => out.push({ type: 'secret_stripe_key', start, end }),
      );
    }
  },
};
