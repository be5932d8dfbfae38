/**
 * Locating the external binaries the Prometheus tests drive. Without them the tests print a clear
 * notice and skip, unless VAKT_REQUIRE_PROMETHEUS=1 (set by .ci/run), which turns a missing binary
 * into a failure so CI always runs them.
 */
import { execFileSync } from 'node:child_process';

export const REQUIRE_PROMETHEUS = process.env.VAKT_REQUIRE_PROMETHEUS === '1';

const INSTALL_HINT =
  'Install them with `sudo apt-get install prometheus` (Debian/Ubuntu; provides prometheus and promtool), ' +
  'or put the release binaries on PATH.';

/** Absolute path of `name` on PATH, or null. */
export function which(name: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/**
 * Returns the paths of the named binaries, or null (after printing why) when one is missing and
 * the environment does not require them. Throws when they are required and missing.
 */
export function prometheusBinaries<const N extends readonly string[]>(
  suite: string,
  names: N,
): Record<N[number], string> | null {
  const found: Record<string, string> = {};
  const missing: string[] = [];
  for (const n of names) {
    const p = which(n);
    if (p) found[n] = p;
    else missing.push(n);
  }
  if (missing.length === 0) return found as Record<N[number], string>;
  const msg = `${suite}: ${missing.join(' and ')} not found on PATH. ${INSTALL_HINT}`;
  if (REQUIRE_PROMETHEUS) throw new Error(`${msg} (VAKT_REQUIRE_PROMETHEUS=1 requires them.)`);
  console.warn(`\n⚠ SKIPPED — ${msg}\n`);
  return null;
}
