/**
 * The text inside a checked input or output. `segmentsOf` walks a validated value
 * (schemas/content.ts) and lists every text-bearing place with its JSON pointer; `rebuild`
 * writes redacted texts back into a copy of the value, so the result keeps the shape (and every
 * extra field) the client sent.
 *
 * JSON payloads — `tool_calls[].function.arguments`, Responses `arguments`, Anthropic
 * `tool_use.input` (as its compact `JSON.stringify` text) — are `json` segments: their string
 * literals, keys and numbers are scanned one token at a time (escape sequences decoded, offsets
 * mapped back to the raw text), and redaction keeps them valid JSON (src/governance/json-text.ts).
 */
import { SKIPPED_PART_TYPES } from '../schemas/content';

export type PathKey = string | number;

export interface Segment {
  text: string;
  /** Path of the text inside the checked value (`[3, 'content', 1, 'text']`). */
  path: readonly PathKey[];
  /** Index of the top-level message / item / choice; null when the value is not an array. */
  messageIndex: number | null;
  /** `text`: plain text. `json`: JSON text (a string field). `json-object`: an object, scanned as JSON text. */
  kind: 'text' | 'json' | 'json-object';
}

export interface Content {
  segments: Segment[];
  /** Non-text parts (images, audio, files, documents, redacted thinking): not scanned. */
  skippedParts: number;
}

type Obj = Record<string, unknown>;
const SKIPPED: ReadonlySet<string> = new Set(SKIPPED_PART_TYPES);

/** Text segments plus skipped parts in one checked value (each message is also capped by the schema). */
export const MAX_TOTAL_PARTS = 10_000;

/** Deepest nesting accepted anywhere in `input`/`output` (extra fields included). */
export const MAX_DEPTH = 64;

/** Text segments of an `input` value (string or array of messages / items). */
export function inputSegments(input: unknown): Content {
  const w = new Walker();
  if (typeof input === 'string') w.text(input, [], null);
  else if (Array.isArray(input)) input.forEach((item, i) => w.item(item as Obj, [i], i));
  return w.result();
}

/** Text segments of an `output` value (string, message, or array of choices / blocks / items). */
export function outputSegments(output: unknown): Content {
  const w = new Walker();
  if (typeof output === 'string') w.text(output, [], null);
  else if (Array.isArray(output)) {
    output.forEach((entry, i) => {
      const e = entry as Obj;
      if (typeof e.type === 'string') w.entry(e, [i], i);
      else w.item(e.message as Obj, [i, 'message'], i);
    });
  } else if (output && typeof output === 'object') w.item(output as Obj, [], null);
  return w.result();
}

class Walker {
  readonly #segments: Segment[] = [];
  #skipped = 0;

  result(): Content {
    return { segments: this.#segments, skippedParts: this.#skipped };
  }

  text(text: unknown, path: PathKey[], index: number | null, kind: Segment['kind'] = 'text') {
    if (kind === 'json-object') {
      this.#segments.push({ text: JSON.stringify(text), path, messageIndex: index, kind });
    } else if (typeof text === 'string' && text.length > 0) {
      this.#segments.push({ text, path, messageIndex: index, kind });
    }
  }

  /** A message (has `role`) or an OpenAI Responses item (has `type`). */
  item(m: Obj, path: PathKey[], index: number | null): void {
    if (typeof m.role === 'string') return this.message(m, path, index);
    this.entry(m, path, index);
  }

  message(m: Obj, path: PathKey[], index: number | null): void {
    this.text(m.name, [...path, 'name'], index);
    this.content(m.content, [...path, 'content'], index);
    this.text(m.refusal, [...path, 'refusal'], index);
    if (Array.isArray(m.tool_calls)) {
      m.tool_calls.forEach((call: Obj, i) => {
        const at = [...path, 'tool_calls', i];
        if (call.type === 'function')
          this.text(
            (call.function as Obj).arguments,
            [...at, 'function', 'arguments'],
            index,
            'json',
          );
        else if (call.type === 'custom')
          this.text((call.custom as Obj).input, [...at, 'custom', 'input'], index);
      });
    }
    if (m.function_call && typeof m.function_call === 'object') {
      const fc = m.function_call as Obj;
      this.text(fc.arguments, [...path, 'function_call', 'arguments'], index, 'json');
    }
  }

  content(content: unknown, path: PathKey[], index: number | null): void {
    if (typeof content === 'string') this.text(content, path, index);
    else if (Array.isArray(content))
      content.forEach((part: Obj, i) => this.entry(part, [...path, i], index));
  }

  /** A content part / block, or a Responses item: anything keyed by `type`. */
  entry(p: Obj, path: PathKey[], index: number | null): void {
    const type = p.type as string;
    if (SKIPPED.has(type)) {
      this.#skipped++;
      return;
    }
    switch (type) {
      case 'text':
      case 'input_text':
      case 'output_text':
        return this.text(p.text, [...path, 'text'], index);
      case 'refusal':
        return this.text(p.refusal, [...path, 'refusal'], index);
      case 'thinking':
        return this.text(p.thinking, [...path, 'thinking'], index);
      case 'tool_use':
        return this.text(p.input, [...path, 'input'], index, 'json-object');
      case 'tool_result':
        return this.content(p.content, [...path, 'content'], index);
      case 'message':
        return this.message(p, path, index);
      case 'function_call':
        return this.text(p.arguments, [...path, 'arguments'], index, 'json');
      case 'custom_tool_call':
        return this.text(p.input, [...path, 'input'], index);
      case 'function_call_output':
      case 'custom_tool_call_output':
        return this.content(p.output, [...path, 'output'], index);
      case 'reasoning':
        for (const key of ['summary', 'content'] as const) {
          const list = p[key];
          if (Array.isArray(list))
            list.forEach((s: Obj, i) => this.text(s.text, [...path, key, i, 'text'], index));
        }
        return;
      default:
        // item_reference and other text-free items.
        return;
    }
  }
}

/**
 * Where `value` nests deeper than `max` levels (the top-level element's path), or null. Iterative, so
 * a hostile body cannot exhaust the stack here (or later in JSON.stringify / structuredClone).
 */
export function tooDeep(value: unknown, max = MAX_DEPTH): PathKey[] | null {
  const stack: Array<{ v: unknown; depth: number; path: PathKey[] }> = [
    { v: value, depth: 0, path: [] },
  ];
  while (stack.length > 0) {
    const { v, depth, path } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return path;
    // The path names only the top-level element: deeper keys are the client's and may be data.
    if (Array.isArray(v))
      v.forEach((x, i) => stack.push({ v: x, depth: depth + 1, path: depth === 0 ? [i] : path }));
    else for (const x of Object.values(v as Obj)) stack.push({ v: x, depth: depth + 1, path });
  }
  return null;
}

/**
 * A copy of `value` with the text at each path replaced. `json-object` segments get their
 * redacted JSON text parsed back into an object. Paths are exact: they came from the walker.
 */
export function rebuild(
  value: unknown,
  replacements: ReadonlyArray<{ segment: Segment; text: string }>,
): unknown {
  if (replacements.length === 0) return value;
  const root = { v: structuredClone(value) };
  for (const { segment, text } of replacements) {
    const newValue: unknown = segment.kind === 'json-object' ? JSON.parse(text) : text;
    let parent: Record<PathKey, unknown> = root;
    let key: PathKey = 'v';
    for (const k of segment.path) {
      parent = parent[key] as Record<PathKey, unknown>;
      key = k;
    }
    parent[key] = newValue;
  }
  return root.v;
}

/** A JSON pointer (RFC 6901) for a path; `""` is the whole value. */
export function pointer(path: readonly PathKey[]): string {
  return path.map((p) => '/' + String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}
