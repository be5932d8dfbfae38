/**
 * Real exposition checkers for the metrics tests: Prometheus' `promtool` (Debian `prometheus`)
 * and the official Python client's parsers (Debian `python3-prometheus-client`, whose OpenMetrics
 * parser enforces the 1.0 spec). A missing tool skips those tests with a notice, unless
 * VAKT_REQUIRE_PROMETHEUS=1 (set by CI), which turns it into a failure.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const REQUIRE_TOOLS = process.env.VAKT_REQUIRE_PROMETHEUS === '1';
const INSTALL_HINT =
  'install them with `apt-get install -y prometheus python3-prometheus-client` (Debian/Ubuntu)';

function found(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  return r.status === 0;
}

/** Absolute python3 that can import prometheus_client, or null. */
function findPython(): string | null {
  for (const py of ['/usr/bin/python3', 'python3']) {
    if (found(py, ['-c', 'import prometheus_client.openmetrics.parser, prometheus_client.parser']))
      return py;
  }
  return null;
}

export const PROMTOOL = found('promtool', ['--version']) ? 'promtool' : null;
export const PYTHON = findPython();

/**
 * Whether the named tools are here. When they are not: throws under VAKT_REQUIRE_PROMETHEUS=1,
 * otherwise prints why the dependent tests are skipped.
 */
export function toolsAvailable(what: string): boolean {
  const missing = [!PROMTOOL && 'promtool', !PYTHON && 'python3 prometheus_client'].filter(Boolean);
  if (missing.length === 0) return true;
  const message = `${what}: ${missing.join(' and ')} not found; ${INSTALL_HINT}.`;
  if (REQUIRE_TOOLS) throw new Error(`VAKT_REQUIRE_PROMETHEUS=1 but ${message}`);
  console.warn(`\n[notice] SKIPPING ${message}\n`);
  return false;
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
