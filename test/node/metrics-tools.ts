/**
 * Real exposition checkers for the metrics tests: Prometheus' `promtool` (Debian `prometheus`)
 * and the official Python client's parsers (Debian `python3-prometheus-client`, whose OpenMetrics
 * parser enforces the 1.0 spec). Found through support/binaries.ts: missing ones fail the suites
 * that need them (or skip them, with an end-of-run banner, under VAKT_SKIP_MISSING_TOOLS=1).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { locate, requireTools } from './support/binaries';

export const PROMTOOL = locate('promtool');
export const PYTHON = locate('python3-prometheus-client');

/** Whether promtool and prometheus_client are here (see requireTools for what happens if not). */
export function toolsAvailable(what: string): boolean {
  return requireTools(what, ['promtool', 'python3-prometheus-client']) !== null;
}

function run(cmd: string, args: string[], input?: string) {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}`.trim() };
}

/**
 * Lint problems `promtool check metrics` reports that the metric contract makes unavoidable:
 * the `_ms` names are fixed by the original dashboard and alert rules.
 */
export const CONTRACT_LINT = [
  'governance_check_latency_ms metric names should not contain abbreviated units',
  'request_latency_ms metric names should not contain abbreviated units',
];

/** `promtool check metrics` on 0.0.4 text: parse errors fail (code 1); lint lines returned. */
export function promtoolCheckMetrics(text: string): { code: number; problems: string[] } {
  const r = run(PROMTOOL!, ['check', 'metrics'], text);
  return {
    code: r.code,
    problems: r.output
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean),
  };
}

/**
 * Parses OpenMetrics text with Prometheus' own OpenMetrics parser (`promtool tsdb
 * create-blocks-from openmetrics`). That importer needs a timestamp on every sample, so one is
 * appended to each sample line; nothing else is changed.
 */
export function promtoolParseOpenMetrics(text: string): { code: number; output: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'vakt-om-'));
  try {
    // The timestamp goes after the value, before an exemplar (` # {…} value ts`) if there is one.
    const stamped = text
      .split('\n')
      .map((l) => {
        if (l === '' || l.startsWith('#')) return l;
        const ex = l.indexOf(' # {');
        return ex === -1 ? `${l} 1700000000` : `${l.slice(0, ex)} 1700000000${l.slice(ex)}`;
      })
      .join('\n');
    const file = path.join(dir, 'in.om');
    writeFileSync(file, stamped);
    return run(PROMTOOL!, [
      'tsdb',
      'create-blocks-from',
      'openmetrics',
      file,
      path.join(dir, 'out'),
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** OpenMetrics exemplar, as prometheus_client read it. */
  exemplar?: { labels: Record<string, string>; value: number; timestamp: number };
}
export interface ParsedFamily {
  name: string;
  type: string;
  help: string;
  samples: ParsedSample[];
}

const PY_PARSE = `
import json, math, sys
fmt = sys.argv[1]
text = sys.stdin.read()
if fmt == 'openmetrics':
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
else:
    from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(text):
    out.append({'name': f.name, 'type': f.type, 'help': f.documentation, 'samples': [
        {'name': s.name, 'labels': s.labels, 'value': s.value if math.isfinite(s.value) else str(s.value),
         **({'exemplar': {'labels': s.exemplar.labels, 'value': s.exemplar.value, 'timestamp': float(s.exemplar.timestamp)}} if getattr(s, 'exemplar', None) else {})}
        for s in f.samples]})
print(json.dumps(out))
`;

/** Parses with prometheus_client (strict OpenMetrics 1.0 parser, or the 0.0.4 text parser). */
export function pythonParse(text: string, format: 'prometheus' | 'openmetrics'): ParsedFamily[] {
  const r = spawnSync(PYTHON!, ['-c', PY_PARSE, format], {
    input: text,
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0)
    throw new Error(`prometheus_client rejected the ${format} text:\n${r.stderr}`);
  return JSON.parse(r.stdout) as ParsedFamily[];
}
