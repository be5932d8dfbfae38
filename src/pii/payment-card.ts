/**
 * Payment card numbers (PAN): Luhn, plus an issuer prefix whose lengths match, plus a card-like
 * layout. Luhn alone passes one random number in ten, and every 13-digit millisecond timestamp
 * starts with 1, which no issuer below uses.
 */
import { CTX_REFERENCE, labelOf } from './context';
import { gluedLeft, gluedRight, hasLens } from './numbers';
import type { Detector, NumberGroup } from './types';

export function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

function prefix(digits: string, n: number): number {
  return Number(digits.slice(0, n));
}

/** Whether the issuer identification number admits a PAN of this length. */
export function issuerAccepts(digits: string): boolean {
  const len = digits.length;
  const p1 = prefix(digits, 1);
  const p2 = prefix(digits, 2);
  const p3 = prefix(digits, 3);
  const p4 = prefix(digits, 4);
  const p6 = prefix(digits, 6);
  if (p1 === 4) return len === 13 || len === 16 || len === 19; // Visa
  if (p2 >= 51 && p2 <= 55) return len === 16; // Mastercard
  if (p4 >= 2221 && p4 <= 2720) return len === 16; // Mastercard 2-series
  if (p4 >= 2200 && p4 <= 2204) return len >= 16 && len <= 19; // Mir
  if (p2 === 34 || p2 === 37) return len === 15; // American Express
  if (p2 === 36) return len >= 14 && len <= 19; // Diners Club International
  if ((p3 >= 300 && p3 <= 305) || p2 === 38 || p2 === 39) return len >= 14 && len <= 19; // Diners
  if (p4 >= 3528 && p4 <= 3589) return len >= 16 && len <= 19; // JCB
  if (p4 === 6011 || (p3 >= 644 && p3 <= 649) || p2 === 65) return len >= 16 && len <= 19; // Discover
  if (p6 >= 622126 && p6 <= 622925) return len >= 16 && len <= 19; // Discover/UnionPay co-brand
  if (p2 === 62) return len >= 16 && len <= 19; // UnionPay
  if ([5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763].includes(p4)) {
    return len >= 12 && len <= 19; // Maestro
  }
  return false;
}

/** Layouts cards are written in: plain, 4-4-4-4(-3), Amex 4-6-5, Diners 4-6-4. */
function cardLayout(g: NumberGroup): 'plain' | 'grouped' | null {
  if (g.lens.length === 1) return 'plain';
  if (g.sep !== 32 && g.sep !== 45) return null;
  if (hasLens(g, [4, 4, 4, 4]) || hasLens(g, [4, 4, 4, 4, 3]) || hasLens(g, [4, 6, 5])) {
    return 'grouped';
  }
  if (hasLens(g, [4, 6, 4]) || hasLens(g, [4, 4, 4, 1]) || hasLens(g, [4, 4, 4, 2])) {
    return 'grouped';
  }
  if (hasLens(g, [4, 4, 4, 3]) || hasLens(g, [4, 4, 5])) return 'grouped';
  return null;
}

export const paymentCard: Detector = {
  types: ['payment_card'],
  numeric: true,
  scan(text, ctx, out): void {
    for (const g of ctx.groups) {
      const len = g.digits.length;
      if (len < 12 || len > 19 || g.plus) continue;
      const layout = cardLayout(g);
      if (!layout || !issuerAccepts(g.digits) || !luhn(g.digits)) continue;
      if (gluedLeft(text, g.start) || gluedRight(text, g.end)) continue;
      // A plain digit string labelled by an order/invoice/reference word is that identifier
      // (`Ordrenummer 4111…`, `Transaction no. 4111…`); anywhere else in the sentence such words
      // do not cancel a card (`Order paid with 4111…`), and amounts never do (`Total charged to …`).
      if (layout === 'plain' && labelOf(text, g.start, ctx.work) & CTX_REFERENCE) continue;
      out.push({ type: 'payment_card', start: g.start, end: g.end });
    }
  },
};
