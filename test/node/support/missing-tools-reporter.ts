/**
 * Ends every run that skipped suites for missing tools (VAKT_SKIP_MISSING_TOOLS=1) on a banner
 * after vitest's own summary, so a skip is never mistaken for a full green run.
 */
import type { Reporter } from 'vitest/reporters';
import { installHint, missingTools, SKIP_MISSING_TOOLS } from './binaries';

export default class MissingToolsReporter implements Reporter {
  onTestRunEnd(): void {
    if (!SKIP_MISSING_TOOLS) return;
    const missing = missingTools();
    if (missing.length === 0) return;
    const line = '━'.repeat(78);
    process.stdout.write(
      `\n${line}\n⚠  NOT A FULL RUN: suites needing ${missing.join(', ')} were SKIPPED\n` +
        `   (VAKT_SKIP_MISSING_TOOLS=1). Install: ${installHint(missing)}.\n${line}\n`,
    );
  }
}
