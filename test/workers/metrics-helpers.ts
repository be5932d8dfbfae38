/** Helpers for the metrics tests: settle this isolate's flushes, scrape and parse /metrics. */
import { createExecutionContext, env, SELF, waitOnExecutionContext } from 'cloudflare:test';
import { flushIdle, flushMetrics } from '../../src/metrics/flush';
import { BASE } from './helpers';

/**
 * Waits until every delta recorded in this isolate has reached the METRICS objects. The
 * workers pool runs SELF in the test's isolate, so the recorder and flush state are shared.
 */
export async function settleMetrics(): Promise<void> {
  for (let i = 0; i < 500 && !flushIdle(); i++) {
    const ctx = createExecutionContext();
    flushMetrics(env, ctx);
    await waitOnExecutionContext(ctx);
    // A leader started by a SELF request may still be running; give it a turn.
    if (!flushIdle()) await scheduler.wait(2);
  }
  if (!flushIdle()) throw new Error('metrics did not settle');
}

export async function scrape(headers: Record<string, string> = {}): Promise<string> {
  const res = await SELF.fetch(BASE + '/metrics', { headers });
  if (res.status !== 200) throw new Error(`/metrics: ${res.status} ${await res.text()}`);
  return res.text();
}

/** Sample value for `name{labels}` from 0.0.4/OpenMetrics text (exact label match), or undefined. */
export function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const want = Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',');
  for (const raw of text.split('\n')) {
    if (raw.startsWith('#') || !raw) continue;
    // An OpenMetrics exemplar follows the value: `… 3 # {trace_id="…"} 1.5 1700000000.000`.
    const line = raw.replace(/ # \{[^}]*\} \S+(?: \S+)?$/, '');
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)]
      .map((x) => [x[1]!, x[2]!] as const)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}="${v}"`)
      .join(',');
    if (got === want) return Number(m[3] === '+Inf' ? Infinity : m[3]);
  }
  return undefined;
}
