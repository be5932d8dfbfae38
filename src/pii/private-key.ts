/**
 * PEM private keys (`-----BEGIN [RSA |EC |DSA |OPENSSH |ENCRYPTED ]PRIVATE KEY-----` and PGP
 * private key blocks). The finding spans BEGIN to END; a key pasted without its END line spans to
 * the end of its base64 body. Public keys and certificates are not secrets and are not reported.
 *
 * Linear: each BEGIN header is read for a bounded length, and the position of the next END line
 * is found once and reused for every BEGIN before it.
 */
import type { Anchor, Detector, Work } from './types';

const BEGIN = '-----BEGIN ';
const END = '-----END ';
const MAX_LABEL = 40;

/** The `B` of `-----BEGIN `; the recorded position is the first `-`. */
const PEM: Anchor = {
  chars: 'B',
  prefixes: ['-----BEGIN '],
  offset: -5,
};

/** The label between `-----BEGIN ` and `-----`, if it names a private key. */
function privateLabel(text: string, labelStart: number, work: Work): number {
  const stop = Math.min(text.length, labelStart + MAX_LABEL);
  work.steps += stop - labelStart;
  for (let i = labelStart; i < stop; i++) {
    const c = text.charCodeAt(i);
    if (c === 45) {
      if (!text.startsWith('-----', i)) return -1;
      const label = text.slice(labelStart, i);
      return label.endsWith('PRIVATE KEY') || label === 'PGP PRIVATE KEY BLOCK' ? i + 5 : -1;
    }
    if (!((c >= 65 && c <= 90) || c === 32)) return -1;
  }
  return -1;
}

/**
 * Body characters: base64, line breaks, spaces, and the `Proc-Type: 4,ENCRYPTED` / `DEK-Info:`
 * header characters of legacy encrypted keys. Sticky and a single class with one quantifier:
 * matched in irregexp's native loop, no backtracking.
 */
const BODY = /[A-Za-z0-9+/=\r\n :,-]*/;

/** End of the body run starting at `from`, never past `stop` (the next END line). */
function bodyEnd(text: string, from: number, stop: number): number {
  const body = new RegExp(BODY.source, 'y'); // sticky: its lastIndex is per call, not shared
  body.lastIndex = from;
  body.test(text);
  const e = body.lastIndex;
  return stop >= from && e > stop ? stop : e;
}

export const privateKey: Detector = {
  types: ['secret_private_key'],
  anchors: [PEM],
  scan(text, ctx, out): void {
    const work = ctx.work;
    let from = 0;
    let nextEnd = -2; // -2: not searched yet; -1: no END after `from`
    for (const begin of ctx.positions(PEM)) {
      if (begin < from) continue;
      const headerEnd = privateLabel(text, begin + BEGIN.length, work);
      if (headerEnd < 0) {
        from = begin + 1;
        continue;
      }
      if (nextEnd === -2 || (nextEnd >= 0 && nextEnd < headerEnd)) {
        nextEnd = text.indexOf(END, headerEnd);
        work.steps += (nextEnd < 0 ? text.length : nextEnd) - headerEnd + 1;
      }
      // The body must reach the END line without other text in between.
      const i = bodyEnd(text, headerEnd, nextEnd);
      work.steps += i - headerEnd + MAX_LABEL;
      let end = i;
      if (i === nextEnd) {
        const close = text.indexOf('-----', nextEnd + END.length);
        end = close >= 0 && close - nextEnd < END.length + MAX_LABEL ? close + 5 : nextEnd;
      } else {
        while (end > headerEnd && /\s/.test(text[end - 1]!)) end--;
        if (end - headerEnd < 64) {
          from = headerEnd;
          continue;
        }
      }
      out.push({ type: 'secret_private_key', start: begin, end });
      from = end;
    }
  },
};
