/**
 * The archive export: every archived event with `since <= ts < until`, as NDJSON, deduplicated by
 * decision_id and ordered by (ts, decision_id), produced as a pull stream so the range is never
 * held in memory.
 *
 * How: hour partitions are read in order. Within one, object keys list in order of their first
 * event's time (archive.ts), and each object is sorted, so a k-way merge needs an object only
 * once the merge has reached its first event: at any moment only the objects overlapping the
 * current time are loaded (normally a few consumer batches). A redelivered event has the same
 * (ts, decision_id) in every copy, so copies meet at adjacent positions and all but the first
 * are skipped.
 */
import { compareEvents, gunzip, minTsOfKey, partitionOf } from './archive';

const HOUR_MS = 3_600_000;

/** Longest range one export request may span (docs/audit.md). */
export const MAX_EXPORT_RANGE_MS = 7 * 24 * HOUR_MS;

interface Line {
  ts: number;
  id: string;
  text: string;
}

interface Open {
  lines: Line[];
  next: number;
}

/** A small binary heap of open objects, by their next line. */
class Heap {
  readonly #items: Open[] = [];
  get size(): number {
    return this.#items.length;
  }
  peek(): Line | undefined {
    const o = this.#items[0];
    return o?.lines[o.next];
  }
  push(o: Open): void {
    this.#items.push(o);
    let i = this.#items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#less(parent, i)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }
  /** Takes the smallest line and re-seats its object. */
  pop(): Line | undefined {
    const top = this.#items[0];
    if (!top) return undefined;
    const line = top.lines[top.next++];
    if (top.next >= top.lines.length) {
      const last = this.#items.pop()!;
      if (this.#items.length === 0) return line;
      this.#items[0] = last;
    }
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.#items.length && this.#less(l, m)) m = l;
      if (r < this.#items.length && this.#less(r, m)) m = r;
      if (m === i) break;
      this.#swap(i, m);
      i = m;
    }
    return line;
  }
  #less(a: number, b: number): boolean {
    const x = this.#items[a]!;
    const y = this.#items[b]!;
    return compareEvents(x.lines[x.next]!, y.lines[y.next]!) < 0;
  }
  #swap(a: number, b: number): void {
    const t = this.#items[a]!;
    this.#items[a] = this.#items[b]!;
    this.#items[b] = t;
  }
}

async function listKeys(bucket: R2Bucket, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, cursor });
    for (const o of page.objects) if (minTsOfKey(o.key) !== undefined) keys.push(o.key);
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys; // R2 lists in key order: by first event time
}

async function load(bucket: R2Bucket, key: string, since: number, until: number): Promise<Line[]> {
  const obj = await bucket.get(key);
  if (!obj) return []; // deleted by retention meanwhile
  const lines: Line[] = [];
  for (const text of (await gunzip(obj.body)).split('\n')) {
    if (!text) continue;
    const e = JSON.parse(text) as { ts: string; decision_id: string };
    const ts = Date.parse(e.ts);
    if (ts >= since && ts < until) lines.push({ ts, id: e.decision_id, text });
  }
  // Objects are written sorted; sorting again costs little and guards against foreign writers.
  return lines.sort(compareEvents);
}

/** The merged, deduplicated lines of one hour partition, in order. */
async function* partition(
  bucket: R2Bucket,
  prefix: string,
  since: number,
  until: number,
): AsyncGenerator<Line> {
  const keys = await listKeys(bucket, prefix);
  const heap = new Heap();
  let k = 0;
  let last: Line | undefined;
  for (;;) {
    // Open every object that may hold the next line: its first event is not after the head.
    while (k < keys.length) {
      const head = heap.peek();
      if (head && minTsOfKey(keys[k]!)! > head.ts) break;
      const lines = await load(bucket, keys[k++]!, since, until);
      if (lines.length > 0) heap.push({ lines, next: 0 });
    }
    const line = heap.pop();
    if (!line) return;
    if (last && last.id === line.id && last.ts === line.ts) continue; // a redelivered copy
    last = line;
    yield line;
  }
}

/** Every archived event in [since, until), one JSON line each. */
export async function* exportLines(
  bucket: R2Bucket,
  since: number,
  until: number,
): AsyncGenerator<string> {
  for (let hour = Math.floor(since / HOUR_MS) * HOUR_MS; hour < until; hour += HOUR_MS) {
    for await (const line of partition(bucket, partitionOf(hour), since, until))
      yield line.text + '\n';
  }
}

/** The export as a byte stream that reads the archive only as fast as the client takes it. */
export function exportStream(
  bucket: R2Bucket,
  since: number,
  until: number,
  onError: (err: unknown) => void,
): ReadableStream<Uint8Array> {
  const lines = exportLines(bucket, since, until);
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        // Up to ~64 KB per chunk: fewer, larger writes than one per line.
        let chunk = '';
        while (chunk.length < 65_536) {
          const { value, done } = await lines.next();
          if (done) {
            if (chunk) controller.enqueue(encoder.encode(chunk));
            controller.close();
            return;
          }
          chunk += value;
        }
        controller.enqueue(encoder.encode(chunk));
      } catch (err) {
        // Headers are sent; the truncated body (no final newline guarantee) is the signal.
        onError(err);
        controller.error(err);
      }
    },
    async cancel() {
      await lines.return(undefined);
    },
  });
}
