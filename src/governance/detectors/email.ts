/** E-mail addresses: local@domain.tld, scanned from each '@' outwards (linear, no regex backtracking). */
import type { Detection, Detector } from './types';

function isLocalChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) ||
    (c >= 65 && c <= 90) ||
    (c >= 48 && c <= 57) ||
    c === 46 || // .
    c === 95 || // _
    c === 37 || // %
    c === 43 || // +
    c === 45 // -
  );
}

function isDomainChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 45 || c === 46
  );
}

export const email: Detector = {
  type: 'email',
  category: 'personal_data',
  scan(text: string, out: Detection[]): void {
    let from = 0;
    let lastEnd = 0;
    for (;;) {
      const at = text.indexOf('@', from);
      if (at < 0) return;
      from = at + 1;
      let s = at;
      while (s > lastEnd && isLocalChar(text.charCodeAt(s - 1))) s--;
      while (s < at && text.charCodeAt(s) === 46) s++; // no leading dot
      if (s === at) continue;
      let e = at + 1;
      while (e < text.length && isDomainChar(text.charCodeAt(e))) e++;
      while (e > at + 1 && text.charCodeAt(e - 1) === 46) e--; // trailing sentence dot
      const domain = text.slice(at + 1, e);
      const lastDot = domain.lastIndexOf('.');
      if (lastDot <= 0 || domain.length - lastDot - 1 < 2 || domain.includes('..')) continue;
      if (!/^[A-Za-z]+$/.test(domain.slice(lastDot + 1))) continue;
      out.push({ type: 'email', start: s, end: e });
      lastEnd = e;
      from = e;
    }
  },
};
