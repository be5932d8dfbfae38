/**
 * vakt's log lines: one JSON object per line, written through `console` (Workers Logs and
 * `wrangler tail` collect it). Inside a request — and in the background work a request starts —
 * every line carries that request's `trace_id` and `span_id`, so a log line, an audit row, a
 * Sentry event, an exported span and a latency exemplar can be joined on one id.
 *
 * Callers pass only non-personal fields (ids, counts, error class names); free text that might
 * hold caller data goes through the Sentry scrubber first (see report.ts).
 */
import { currentTrace } from './request-trace';

export type LogLevel = 'log' | 'info' | 'warn' | 'error';

export function logLine(level: LogLevel, fields: { msg: string; [field: string]: unknown }): void {
  const trace = currentTrace();
  const line = trace ? { ...fields, trace_id: trace.traceId, span_id: trace.spanId } : fields;
  console[level](JSON.stringify(line));
}
