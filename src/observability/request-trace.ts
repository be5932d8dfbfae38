/**
 * One request's trace: its W3C ids (continued from the caller's `traceparent` or new), the stage
 * timings behind `Server-Timing`, and the spans an OTLP export would send (./otlp.ts). Cheap to
 * keep when nothing is exported: a few strings and a short array per request.
 *
 * The current request's trace is also held in an AsyncLocalStorage, so code far from the request
 * (log lines, Sentry reports, background `waitUntil` work started by the request) can name it
 * without being handed the Hono context.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { scanText } from '../pii';
import { isCleanIdentifier } from '../pii/identifier';
import {
  formatTraceparent,
  newSpanId,
  newTraceId,
  parseTraceparent,
  parseTracestate,
  sampledAt,
} from './trace-context';

export type SpanKindName = 'server' | 'internal' | 'client' | 'producer';
export type AttributeValue = string | number | boolean | string[];

/** A finished span, in the request's own terms (converted to OTLP only when exporting). */
export interface SpanRecord {
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: SpanKindName;
  /** Epoch milliseconds (fractional). */
  start: number;
  end: number;
  attributes: Record<string, AttributeValue>;
  /** Set when the span failed: the error's type and message (scrubbed before export). */
  error?: { type: string; message: string };
}

/** Spans kept per request beyond the root; more are counted, not kept (bounded memory). */
export const MAX_SPANS_PER_REQUEST = 64;

export class RequestTrace {
  readonly traceId: string;
  /** This request's (server) span id: the parent-id of the `traceparent` vakt answers with. */
  readonly spanId = newSpanId();
  /** The caller's span, when it sent a valid `traceparent`. */
  readonly parentSpanId: string | null;
  readonly traceState: string | null;
  /** The caller's sampled flag; null for a trace vakt started. */
  readonly parentSampled: boolean | null;
  /** Decided by `decideSampling` once the configuration is known. */
  sampled: boolean;
  readonly spans: SpanRecord[] = [];
  droppedSpans = 0;
  readonly attributes: Record<string, AttributeValue> = {};
  error: { type: string; message: string } | undefined;
  readonly #timings: Array<[string, number]> = [];
  #pending = 0;
  readonly #idle: Array<() => void> = [];
  /** Clock pair: performance.now() readings map to epoch time through it. */
  readonly #wall = Date.now();
  readonly #perf = performance.now();
  readonly startPerf: number;

  constructor(traceparent?: string | null, tracestate?: string | null) {
    this.startPerf = this.#perf;
    const parent = acceptableParent(traceparent);
    this.traceId = parent?.traceId ?? newTraceId();
    this.parentSpanId = parent?.parentId ?? null;
    this.parentSampled = parent ? (parent.flags & 1) === 1 : null;
    this.sampled = this.parentSampled ?? true;
    // tracestate only means something alongside the traceparent it belongs to.
    const state = parent ? parseTracestate(tracestate) : null;
    this.traceState = state !== null && isCleanIdentifier(state) ? state : null;
  }

  /** Epoch milliseconds of a `performance.now()` reading. */
  epoch(perf: number): number {
    return this.#wall + (perf - this.#perf);
  }

  /**
   * Parent-based sampling: a caller's decision is kept; a trace vakt started is sampled at
   * `rootRatio` (decided by the trace id, so it is stable for the trace).
   */
  decideSampling(rootRatio: number): boolean {
    this.sampled = this.parentSampled ?? sampledAt(this.traceId, rootRatio);
    return this.sampled;
  }

  /** The `traceparent` vakt answers with: same trace, vakt's span as the parent. */
  traceparent(): string {
    return formatTraceparent(this.traceId, this.spanId, this.sampled);
  }

  /**
   * Records one governance stage: its duration for `Server-Timing`, and a child span of the
   * request. `start`/`end` are performance.now() readings.
   */
  stage(name: string, start: number, end: number): void {
    this.#timings.push([name, end - start]);
    this.span(name, 'internal', start, end);
  }

  /** Records a child span (of `parentSpanId`, default the request's span). Returns its id. */
  span(
    name: string,
    kind: SpanKindName,
    start: number,
    end: number,
    attributes: Record<string, AttributeValue> = {},
    options: { parentSpanId?: string; error?: unknown } = {},
  ): string | null {
    if (this.spans.length >= MAX_SPANS_PER_REQUEST) {
      this.droppedSpans++;
      return null;
    }
    const spanId = newSpanId();
    this.spans.push({
      spanId,
      parentSpanId: options.parentSpanId ?? this.spanId,
      name,
      kind,
      start: this.epoch(start),
      end: this.epoch(end),
      attributes,
      ...(options.error !== undefined ? { error: describe(options.error) } : {}),
    });
    return spanId;
  }

  /**
   * Marks a subrequest as in flight (it becomes a span when it ends); returns the function that
   * marks it done. The export of this trace waits for every tracked call (`settled`).
   */
  track(): () => void {
    this.#pending++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.#pending === 0) for (const resolve of this.#idle.splice(0)) resolve();
    };
  }

  /** Resolves once no tracked subrequest is in flight. */
  settled(): Promise<void> {
    return this.#pending === 0 ? Promise.resolve() : new Promise((r) => this.#idle.push(r));
  }

  /** Marks the request's own span as failed (an unexpected error that became a 500). */
  recordError(err: unknown): void {
    this.error = describe(err);
  }

  /** `rate_limit;dur=0.412, validation;dur=0.020, …`, or null when no stage ran. */
  serverTiming(): string | null {
    if (this.#timings.length === 0) return null;
    return this.#timings
      .map(([name, ms]) => `${name};dur=${Math.max(0, Math.round(ms * 1000) / 1000)}`)
      .join(', ');
  }
}

/**
 * The caller's trace, when its `traceparent` is valid and its ids pass the identifier rule
 * (src/pii/identifier.ts): the trace id reaches audit rows, logs, Sentry and /metrics, so a
 * caller must not be able to plant a fødselsnummer or a card number in it. A random id passes
 * (it is a hex string with letters; an all-digit one occurs once in ~3 million), an all-digit id
 * does not, and vakt starts a new trace. The parent id only reaches exported spans; it is held to
 * the detectors alone, since one random 16-digit id in ~2,000 has no hex letter.
 */
function acceptableParent(value: string | null | undefined) {
  const parent = parseTraceparent(value);
  if (!parent) return null;
  return isCleanIdentifier(parent.traceId) && scanText(parent.parentId).length === 0
    ? parent
    : null;
}

function describe(err: unknown): { type: string; message: string } {
  return err instanceof Error
    ? { type: err.name, message: err.message }
    : { type: typeof err, message: '' };
}

const storage = new AsyncLocalStorage<RequestTrace>();

/** Runs `fn` (and everything it starts, awaits or schedules) with `trace` as the current one. */
export function runWithTrace<R>(trace: RequestTrace, fn: () => R): R {
  return storage.run(trace, fn);
}

/**
 * Runs `fn` (and everything it starts) as no request's work: for background upkeep a request
 * merely happened to schedule (e.g. giving back a rate-limit lease a second later), whose spans
 * would otherwise land in a trace exported long before.
 */
export function runOutsideTrace<R>(fn: () => R): R {
  return storage.exit(fn);
}

/** The trace of the request this code runs for, if any. */
export function currentTrace(): RequestTrace | undefined {
  return storage.getStore();
}
