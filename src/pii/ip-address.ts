/**
 * IP addresses.
 * - IPv4: four dot-separated decimal octets 0–255 without leading zeros, not part of a longer
 *   dotted run (`10.0.19045.3803` is a Windows build), not after a version/section word, and not
 *   glued to letters (`v1.2.3.4`). Four single-digit octets (`1.2.3.4`) need an IP context word.
 *   A port (`:8080`) or prefix length (`/24`) may follow.
 * - IPv6: hex groups with `:` and at most one `::`, 8 groups (or fewer with `::`), optionally an
 *   IPv4 tail. At least two explicit groups and one decimal digit are required, which rules out
 *   `std::vector`, times (`12:30:45`) and MAC addresses (six groups).
 */
import { CTX_IP, CTX_VERSION, nearestContext } from './context';
import { COLON } from './anchors';
import { gluedLeft } from './numbers';
import { isDigit, isHex, isWordChar } from './text';
import type { Detection, Detector, ScanContext } from './types';

/** Whether `s` is a dotted-quad IPv4 address. */
export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  return parts.every(
    (p) =>
      p.length >= 1 &&
      p.length <= 3 &&
      /^\d+$/.test(p) &&
      (p === '0' || p[0] !== '0') &&
      Number(p) <= 255,
  );
}

/** Whether `s` is an IPv6 address in text form (no zone id, no brackets). */
export function isIPv6(s: string): boolean {
  if (s.length < 3 || s.length > 45) return false;
  const dbl = s.indexOf('::');
  if (dbl !== s.lastIndexOf('::')) return false;
  const count = (part: string): number | null => {
    if (part === '') return 0;
    const groups = part.split(':');
    let n = 0;
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (i === groups.length - 1 && g.includes('.')) {
        if (!isIPv4(g)) return null;
        n += 2;
      } else if (g.length >= 1 && g.length <= 4 && /^[0-9A-Fa-f]+$/.test(g)) n++;
      else return null;
    }
    return n;
  };
  if (dbl < 0) return count(s) === 8;
  const left = count(s.slice(0, dbl));
  const right = count(s.slice(dbl + 2));
  if (left === null || right === null) return false;
  // An IPv4 tail is only allowed at the very end.
  if (s.slice(0, dbl).includes('.')) return false;
  return left + right <= 7;
}

const MAX_V6 = 45;

function isV6Char(c: number): boolean {
  return isHex(c) || c === 58 || c === 46;
}

function scanIPv6(text: string, ctx: ScanContext, out: Detection[]): void {
  let from = 0;
  const n = text.length;
  for (const colon of ctx.positions(COLON)) {
    if (colon < from) continue;
    let s = colon;
    while (s > 0 && colon - s < MAX_V6 && isV6Char(text.charCodeAt(s - 1))) s--;
    let e = colon + 1;
    while (e < n && isV6Char(text.charCodeAt(e))) e++;
    ctx.work.steps += e - s;
    from = e;
    if (e - s > MAX_V6 || e - s < 6) continue;
    // Trailing dots and colons are punctuation (`… is fe80::1.` / `addr: `).
    while (e > colon + 1 && (text.charCodeAt(e - 1) === 46 || text.charCodeAt(e - 1) === 58)) {
      if (text.charCodeAt(e - 1) === 58 && text.charCodeAt(e - 2) === 58) break;
      e--;
    }
    const before = text.charCodeAt(s - 1);
    if (isWordChar(before) || before === 46 || isWordChar(text.charCodeAt(e))) continue;
    const candidate = text.slice(s, e);
    let explicit = 0;
    let colons = 0;
    let dots = 0;
    let hasDigit = false;
    for (let i = 0; i < candidate.length; i++) {
      const c = candidate.charCodeAt(i);
      if (isDigit(c)) hasDigit = true;
      if (c === 58) colons++;
      else if (c === 46) dots++;
      if (isHex(c) && (i === 0 || !isHex(candidate.charCodeAt(i - 1)))) explicit++;
    }
    if (explicit < 2 || !hasDigit) continue;
    // Cheap shape check before parsing: without `::` an address has 7 colons (6 before an
    // IPv4 tail), so times (`12:30:45`) and MAC addresses stop here.
    if (!candidate.includes('::') && colons !== 7 && !(colons === 6 && dots === 3)) continue;
    if (!isIPv6(candidate)) continue;
    out.push({ type: 'ip_address', start: s, end: e });
  }
}

function scanIPv4(text: string, ctx: ScanContext, out: Detection[]): void {
  for (const g of ctx.groups) {
    if (g.sep !== 46 || g.lens.length !== 4 || g.plus) continue;
    const candidate = text.slice(g.start, g.end);
    if (!isIPv4(candidate)) continue;
    if (gluedLeft(text, g.start)) continue;
    const after = text.charCodeAt(g.end);
    const afterNext = text.charCodeAt(g.end + 1);
    // `:8080` and `/24` are fine; letters, `_`, `.5` or `,5` continue some other token.
    if (isWordChar(after)) continue;
    if ((after === 46 || after === 44) && isDigit(afterNext)) continue;
    if (after === 45 && isWordChar(afterNext)) continue;
    const near = nearestContext(text, g.start, CTX_IP | CTX_VERSION, ctx.work);
    if (near & CTX_VERSION) continue;
    const allSingle = g.lens.every((l) => l === 1);
    if (allSingle && near !== CTX_IP) continue;
    out.push({ type: 'ip_address', start: g.start, end: g.end });
  }
}

export const ipAddress: Detector = {
  types: ['ip_address'],
  anchors: [COLON],
  numeric: true,
  scan(text, ctx, out): void {
    scanIPv4(text, ctx, out);
    scanIPv6(text, ctx, out);
  },
};
