/** Google API keys: `AIza` + 35 characters of [A-Za-z0-9_-], 39 in all, standing alone. */
import { isBase64UrlChar } from './text';
import { eachPosition, readRun } from './token-scan';
import type { Anchor, Detector } from './types';

const PREFIX: Anchor = { chars: 'A', prefixes: ['AIza'] };

export const googleApiKey: Detector = {
  types: ['secret_google_api_key'],
  anchors: [PREFIX],
  scan(text, ctx, out): void {
    eachPosition(ctx.positions(PREFIX), ctx.work, (s) => {
      if (s > 0 && isBase64UrlChar(text.charCodeAt(s - 1))) return s + 1;
      const e = readRun(text, s + 4, 35, 35, isBase64UrlChar, ctx.work);
      if (e < 0) return s + 1;
      out.push({ type: 'secret_google_api_key', start: s, end: e });
      return e;
    });
  },
};
