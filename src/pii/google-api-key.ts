/** Google API keys: `AIza` + 35 characters of [A-Za-z0-9_-], 39 in all, standing alone. */
import { isBase64UrlChar } from './text';
import { tokens } from './numbers';
import { eachPosition, readRun } from './token-scan';
import type { Detection, Detector } from './types';

export const googleApiKey: Detector = {
  type: 'secret_google_api_key',
  category: 'secret',
  scan(text: string, out: Detection[]): void {
    eachPosition(tokens(text).keyPrefixes, (s) => {
      if (text.charCodeAt(s + 1) !== 73) return s + 1; // not AIza
      if (s > 0 && isBase64UrlChar(text.charCodeAt(s - 1))) return s + 1;
      const e = readRun(text, s + 4, 35, 35, isBase64UrlChar);
      if (e < 0) return s + 1;
      out.push({ type: 'secret_google_api_key', start: s, end: e });
      return e;
    });
  },
};
