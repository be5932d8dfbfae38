/**
 * The external programs the node tests drive, found in one place. A missing one fails the suites
 * that need it, naming the package to install, so a green `npm test` always means every suite ran.
 * `VAKT_SKIP_MISSING_TOOLS=1` skips those suites instead; the run then ends on a banner listing
 * what was skipped (test/node/support/missing-tools-reporter.ts), never silently.
 */
import { spawnSync } from 'node:child_process';

/** Opt-in skip of suites whose tools are missing (never set in CI). */
export const SKIP_MISSING_TOOLS = process.env.VAKT_SKIP_MISSING_TOOLS === '1';

export const TOOLS = {
  prometheus: { install: 'Debian/Ubuntu: apt-get install prometheus' },
  promtool: { install: 'Debian/Ubuntu: apt-get install prometheus' },
  'python3-prometheus-client': {
    install: 'Debian/Ubuntu: apt-get install python3-prometheus-client',
  },
  chromium: { install: 'Debian: apt-get install chromium' },
} as const;
export type Tool = keyof typeof TOOLS;

function runs(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  return r.status === 0;
}

/** Absolute path of `name` on PATH, or null. */
export function which(name: string): string | null {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() || null : null;
}

const located = new Map<Tool, string | null>();

/** The command to run for `tool`, or null when it is not installed. */
export function locate(tool: Tool): string | null {
  if (!located.has(tool)) located.set(tool, probe(tool));
  return located.get(tool) ?? null;
}

function probe(tool: Tool): string | null {
  switch (tool) {
    case 'prometheus':
    case 'promtool':
      return which(tool);
    case 'chromium':
      return which('chromium') ?? which('chromium-browser');
    case 'python3-prometheus-client':
      // The official client's parsers; Debian's python3 first (a pyenv python lacks the package).
      for (const py of ['/usr/bin/python3', 'python3']) {
        if (
          runs(py, ['-c', 'import prometheus_client.openmetrics.parser, prometheus_client.parser'])
        )
          return py;
      }
      return null;
  }
}

/** Tools in `names` that are not installed. */
export function missingTools(names: readonly Tool[] = Object.keys(TOOLS) as Tool[]): Tool[] {
  return names.filter((n) => locate(n) === null);
}

/** One line per missing tool: what it is and how to install it. */
export function installHint(missing: readonly Tool[]): string {
  return missing.map((t) => `${t} (${TOOLS[t].install})`).join('; ');
}

/**
 * The commands for `names`, for a suite that needs them. A missing tool throws (the suite fails
 * with the install hint) unless VAKT_SKIP_MISSING_TOOLS=1, which returns null so the suite can
 * `describe.skipIf(!tools)`; the end-of-run banner then lists it.
 */
export function requireTools<const N extends readonly Tool[]>(
  suite: string,
  names: N,
): Record<N[number], string> | null {
  const missing = missingTools(names);
  if (missing.length === 0) {
    return Object.fromEntries(names.map((n) => [n, locate(n)])) as Record<N[number], string>;
  }
  const msg = `${suite} needs ${installHint(missing)}`;
  if (!SKIP_MISSING_TOOLS) {
    throw new Error(`${msg}. Install it, or set VAKT_SKIP_MISSING_TOOLS=1 to skip this suite.`);
  }
  console.warn(`\n⚠ SKIPPED (VAKT_SKIP_MISSING_TOOLS=1) — ${msg}\n`);
  return null;
}
