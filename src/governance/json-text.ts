/**
 * Scanning and redacting JSON text (tool-call arguments) without breaking it.
 *
 * A model's tool arguments are JSON in a string: `{"email":"kari@example.no"}`. Scanning the raw
 * text would miss values written with escapes (`"K\u00e5re@bl\u00e5b\u00e6r.no"`) and redacting
 * it naively could break the JSON the tool then parses. So when the text is valid JSON, each
 * string literal (keys included) is decoded and scanned on its own, with offsets mapped back to
 * the raw text, and each number is scanned as written. Redaction then stays inside tokens:
 * - inside a string literal the match becomes `[TYPE]` (brackets, capitals and `_` need no
 *   escaping, and matches never split an escape sequence, since they come from decoded text);
 * - a number containing a match becomes the string `"[TYPE]"`.
 * The result is valid JSON with the same structure; only scanned values changed.
 * Text that is not valid JSON is scanned and redacted as plain text.
 */
import { redact, scanText, type Detection } from '../pii';

interface Token {
  kind: 'string' | 'number';
  /** Raw `[start, end)`; for strings including the quotes. */
  start: number;
  end: number;
  /** The decoded value (strings) or the raw digits (numbers). */
  value: string;
  /** For strings: raw offset of each decoded UTF-16 unit, plus the closing quote's offset. */
  map?: Uint32Array;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERAL = /true|false|null/y;
const ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/** String and number tokens of `text` if it is valid JSON, else null. */
export function jsonTokens(text: string): Token[] | null {
  try {
    JSON.parse(text);
  } catch {
    return null;
  }
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      const start = i;
      const offsets: number[] = [];
      let value = '';
      i++;
      while (text[i] !== '"') {
        offsets.push(i);
        if (text[i] === '\\') {
          const e = text[i + 1]!;
          if (e === 'u') {
            value += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
            i += 6;
          } else {
            value += ESCAPES[e] ?? e;
            i += 2;
          }
        } else {
          value += text[i];
          i++;
        }
      }
      offsets.push(i);
      i++;
      tokens.push({ kind: 'string', start, end: i, value, map: Uint32Array.from(offsets) });
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      NUMBER.exec(text);
      tokens.push({
        kind: 'number',
        start: i,
        end: NUMBER.lastIndex,
        value: text.slice(i, NUMBER.lastIndex),
      });
      i = NUMBER.lastIndex;
    } else if (c === 't' || c === 'f' || c === 'n') {
      LITERAL.lastIndex = i;
      LITERAL.exec(text);
      i = LITERAL.lastIndex;
    } else {
      i++; // whitespace and punctuation
    }
  }
  return tokens;
}

/**
 * Detections in JSON text, in raw UTF-16 offsets, each inside one token; null if `text` is not
 * valid JSON (scan it as plain text then).
 */
export function scanJson(text: string): Detection[] | null {
  const tokens = jsonTokens(text);
  if (!tokens) return null;
  const out: Detection[] = [];
  for (const t of tokens) {
    for (const d of scanText(t.value)) {
      out.push(
        t.map
          ? { type: d.type, start: t.map[d.start]!, end: t.map[d.end]! }
          : { type: d.type, start: t.start + d.start, end: t.start + d.end },
      );
    }
  }
  return out;
}

/** Redacts `detections` (from `scanJson`) so that valid JSON stays valid JSON; see the header. */
export function redactJson(text: string, detections: readonly Detection[]): string {
  const tokens = jsonTokens(text);
  if (!tokens) return redact(text, detections);
  let out = '';
  let cursor = 0;
  for (const t of tokens) {
    const inside = detections.filter((d) => d.start >= t.start && d.end <= t.end);
    if (inside.length === 0) continue;
    out += text.slice(cursor, t.start);
    if (t.kind === 'number') {
      out += `"[${inside[0]!.type.toUpperCase()}]"`;
    } else {
      const body = text.slice(t.start + 1, t.end - 1);
      const shifted = inside.map((d) => ({
        type: d.type,
        start: d.start - t.start - 1,
        end: d.end - t.start - 1,
      }));
      out += `"${redact(body, shifted)}"`;
    }
    cursor = t.end;
  }
  return out + text.slice(cursor);
}
