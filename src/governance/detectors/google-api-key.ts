/** Google API keys: `AIza` + 35 characters of [A-Za-z0-9_-], 39 in all, standing alone. */
import { isBase64UrlChar } from './text';
import { readRun, scanPrefix } from './token-scan';
import type { Detection, Detector } from './types';

export const googleApiKey: Detector = {
  type: 'secret_google_api_key',
  category: 'secret',
  scan(text: string, out: Detection[]): void {
    scanPrefix(
      text,
      'AIza',
      isBase64UrlChar,
      (_s, body) => {
        const e = readRun(text, body, 35, 35, isBase64UrlChar);
        return e < 0 || isBase64UrlChar(text.charCodeAt(e)) ? -1 : e;
      },
      (start, end) => out.push({ type: 'secret_google_api_key', start, end }),
    );
  },
};
