/**
 * Span export over OTLP/HTTP with the JSON encoding (`POST <OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`,
 * `Content-Type: application/json`), when OTEL_EXPORTER_OTLP_ENDPOINT is set. Each sampled
 * request becomes one server span with a child per governance stage and per subrequest
 * (instrument-env.ts). The payload is built by OpenTelemetry's own serializer
 * (`@opentelemetry/otlp-transformer`, JsonTraceSerializer), so ids, timestamps and enums are
 * encoded exactly as the OTLP spec's JSON mapping says.
 *
 * Off the response path, batched and bounded — the design of the metrics flush (flush.ts):
 * - a request hands its finished spans to a per-isolate queue from its own `waitUntil` (after its
 *   background subrequests have ended), never before the response;
 * - at most one *leader* per isolate exports: it lingers briefly so concurrent requests share one
 *   POST, sends up to MAX_SPANS_PER_EXPORT spans per POST, and loops while spans keep arriving;
 *   every stub, fetch and promise it awaits is its own (the Workers request-context rule);
 * - the queue holds at most MAX_QUEUED_SPANS; spans beyond it, and batches the collector refuses
 *   or that time out, are dropped and counted (`otlpStats`) — telemetry must never grow without
 *   bound or retry a dead collector from every request.
 *
 * Scrubbed like Sentry events: every string attribute and exception message goes through the
 * Sentry scrubber (vakt's detectors plus the fallbacks for keys, tokens, e-mails and digit runs),
 * and no span carries input text, a detected value, a header or an API key in the first place.
 */
import { SpanKind, SpanStatusCode, TraceFlags, type TraceState } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Config, OtlpConfig } from '../config';
import { scrubIdentifier } from '../pii/identifier';
import type { Env } from '../env';
import { sleep } from '../timing';
import { logLine } from './log';
import type { AttributeValue, RequestTrace, SpanKindName, SpanRecord } from './request-trace';
import { createScrubber, type StringScrubber } from './scrub';
import type { WaitUntil } from '../types';

/** Spans waiting for export in one isolate; more are dropped (and counted). */
export const MAX_QUEUED_SPANS = 2048;
/** Spans per POST. */
export const MAX_SPANS_PER_EXPORT = 512;
/** A leader lingers this long before draining, so concurrent requests share one POST. */
export const EXPORT_LINGER_MS = 20;
/** One POST is given up after this long. */
export const EXPORT_TIMEOUT_MS = 5000;
/** POSTs one leader sends before handing over (bounds one waitUntil's duration). */
const MAX_ROUNDS_PER_LEADER = 16;
/** A leader silent this long is presumed dead (its invocation was cancelled). */
const LEADER_STALE_MS = 30_000;
/** A request waits at most this long for its background subrequests before its spans go. */
const SETTLE_TIMEOUT_MS = 10_000;

export interface OtlpStats {
  /** Spans the collector accepted (2xx). */
  exported: number;
  /** POSTs made. */
  batches: number;
  /** Spans in POSTs that failed (network error, timeout, non-2xx). */
  failed: number;
  /** Spans dropped because the queue was full. */
  dropped: number;
}

const stats: OtlpStats = { exported: 0, batches: 0, failed: 0, dropped: 0 };
const state = { queue: [] as ReadableSpan[], leader: 0, generation: 0, beat: 0 };

/** This isolate's export counters. */
export function otlpStats(): Readonly<OtlpStats> {
  return { ...stats };
}

/** What the request span says about the request, known once the response exists. */
export interface RequestSpanInfo {
  name: string;
  attributes: Record<string, AttributeValue>;
  /** HTTP status: a 5xx marks the server span as failed (OpenTelemetry's HTTP conventions). */
  status: number;
}

/**
 * Hands a sampled request's spans to the exporter from `ctx.waitUntil`. Synchronous and cheap:
 * everything (waiting for background subrequests, converting, scrubbing, sending) happens later.
 */
export function exportTrace(
  env: Env,
  ctx: WaitUntil,
  config: Config,
  otlp: OtlpConfig,
  trace: RequestTrace,
  request: RequestSpanInfo,
  end: number,
): void {
  ctx.waitUntil(
    (async () => {
      try {
        // Background work the request started (the audit send) registers on its first turns.
        await sleep(0);
        await Promise.race([trace.settled(), sleep(SETTLE_TIMEOUT_MS)]);
        const scrub = createScrubber([env.ADMIN_TOKEN, env.METRICS_TOKEN]);
        const spans = toReadableSpans(trace, request, end, resourceFor(config, otlp), scrub);
        const room = MAX_QUEUED_SPANS - state.queue.length;
        if (room < spans.length) stats.dropped += spans.length - Math.max(room, 0);
        if (room > 0) state.queue.push(...spans.slice(0, room));
        const now = Date.now();
        if (state.leader !== 0 && now - state.beat < LEADER_STALE_MS) return;
        const me = ++state.generation;
        state.leader = me;
        state.beat = now;
        await lead(otlp, me);
      } catch (err) {
        logLine('error', {
          msg: 'otlp export failed',
          error: err instanceof Error ? err.name : typeof err,
        });
      }
    })(),
  );
}

async function lead(otlp: OtlpConfig, me: number): Promise<void> {
  try {
    for (let round = 0; round < MAX_ROUNDS_PER_LEADER && state.leader === me; round++) {
      await sleep(EXPORT_LINGER_MS);
      state.beat = Date.now();
      const batch = state.queue.splice(0, MAX_SPANS_PER_EXPORT);
      if (batch.length === 0) return;
      await send(otlp, batch);
    }
  } finally {
    // Released in the same synchronous step as the last look at the queue (see flush.ts).
    if (state.leader === me) state.leader = 0;
  }
}

async function send(otlp: OtlpConfig, batch: ReadableSpan[]): Promise<void> {
  stats.batches++;
  try {
    const body = JsonTraceSerializer.serializeRequest(batch);
    if (!body) throw new Error('serializer returned nothing');
    const res = await fetch(otlp.tracesUrl, {
      method: 'POST',
      headers: { ...otlp.headers, 'Content-Type': 'application/json' },
      body,
      signal: AbortSignal.timeout(EXPORT_TIMEOUT_MS),
    });
    await res.body?.cancel();
    if (res.ok) {
      stats.exported += batch.length;
      return;
    }
    stats.failed += batch.length;
    logLine('warn', { msg: 'otlp export refused', status: res.status, spans: batch.length });
  } catch (err) {
    stats.failed += batch.length;
    logLine('warn', {
      msg: 'otlp export failed',
      reason: err instanceof Error && err.name === 'TimeoutError' ? 'timeout' : 'network',
      spans: batch.length,
    });
  }
}

const resources = new WeakMap<OtlpConfig, Resource>();
function resourceFor(config: Config, otlp: OtlpConfig): Resource {
  let r = resources.get(otlp);
  if (!r) {
    r = resourceFromAttributes({
      'service.name': otlp.serviceName,
      'service.version': config.release,
      'deployment.environment.name': config.environment,
      'cloud.provider': 'cloudflare',
      'cloud.platform': 'cloudflare.workers',
      'telemetry.sdk.name': 'vakt',
      'telemetry.sdk.language': 'webjs',
    });
    resources.set(otlp, r);
  }
  return r;
}

const KINDS: Record<SpanKindName, SpanKind> = {
  server: SpanKind.SERVER,
  internal: SpanKind.INTERNAL,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
};

/** The request span and its children as the SDK's ReadableSpan, scrubbed. */
export function toReadableSpans(
  trace: RequestTrace,
  request: RequestSpanInfo,
  end: number,
  resource: Resource,
  scrub: StringScrubber,
): ReadableSpan[] {
  const traceState = trace.traceState ? staticTraceState(trace.traceState) : undefined;
  const context = (spanId: string, isRemote = false) => ({
    traceId: trace.traceId,
    spanId,
    traceFlags: TraceFlags.SAMPLED,
    isRemote,
    ...(traceState ? { traceState } : {}),
  });
  const root: SpanRecord = {
    spanId: trace.spanId,
    parentSpanId: trace.parentSpanId,
    name: request.name,
    kind: 'server',
    start: trace.epoch(trace.startPerf),
    end: trace.epoch(end),
    attributes: { ...request.attributes, ...trace.attributes },
    ...(trace.error ? { error: trace.error } : {}),
  };
  const failed = request.status >= 500;
  const all = [root, ...trace.spans];
  return all.map((s): ReadableSpan => {
    const startTime = hrTime(s.start);
    const endTime = hrTime(Math.max(s.end, s.start));
    const error = s.error
      ? { type: scrub(s.error.type), message: scrub(s.error.message) }
      : undefined;
    const isError = error !== undefined || (s === root && failed);
    return {
      name: scrub(s.name),
      kind: KINDS[s.kind],
      spanContext: () => context(s.spanId),
      ...(s.parentSpanId
        ? { parentSpanContext: context(s.parentSpanId, s === root && trace.parentSpanId !== null) }
        : {}),
      startTime,
      endTime,
      duration: hrTime(Math.max(s.end - s.start, 0)),
      ended: true,
      status: isError
        ? { code: SpanStatusCode.ERROR, ...(error ? { message: error.type } : {}) }
        : { code: SpanStatusCode.UNSET },
      attributes: scrubAttributes(s.attributes, scrub),
      links: [],
      events: error
        ? [
            {
              name: 'exception',
              time: endTime,
              attributes: { 'exception.type': error.type, 'exception.message': error.message },
            },
          ]
        : [],
      resource,
      instrumentationScope: { name: 'vakt' },
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  });
}

/**
 * Attribute values are identifiers (request id, route, labels): the Sentry scrubber, then the
 * identifier rule (any run of 9+ digits outside a UUID or hex id is redacted, so a caller's
 * `X-Request-Id: req-01010012356` cannot carry a number into the collector).
 */
function scrubAttributes(
  attributes: Record<string, AttributeValue>,
  scrub: StringScrubber,
): Record<string, AttributeValue> {
  const clean = (v: string) => scrubIdentifier(scrub(v));
  const out: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(attributes)) {
    out[k] = typeof v === 'string' ? clean(v) : Array.isArray(v) ? v.map(clean) : v;
  }
  return out;
}

/** `[seconds, nanoseconds]` of an epoch-milliseconds time (OpenTelemetry's HrTime). */
export function hrTime(ms: number): [number, number] {
  let seconds = Math.floor(ms / 1000);
  let nanos = Math.round((ms - seconds * 1000) * 1e6);
  if (nanos >= 1e9) {
    seconds += 1;
    nanos -= 1e9;
  }
  return [seconds, nanos];
}

/** A read-only W3C tracestate (the exporter only serializes it). */
function staticTraceState(value: string): TraceState {
  const self: TraceState = {
    get: (key) => {
      for (const member of value.split(',')) {
        const eq = member.indexOf('=');
        if (member.slice(0, eq) === key) return member.slice(eq + 1);
      }
      return undefined;
    },
    set: () => self,
    unset: () => self,
    serialize: () => value,
  };
  return self;
}
