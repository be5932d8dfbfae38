/**
 * The audit consumer must know its queue's retry settings (to recognise a final delivery) and the
 * retention cron; this keeps src/audit/limits.ts and wrangler.toml in step.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_DLQ_MAX_RETRIES,
  AUDIT_DLQ_NAME,
  AUDIT_MAX_RETRIES,
  AUDIT_QUEUE_NAME,
  AUDIT_RETENTION_CRON,
  AUDIT_RETRY_BASE_S,
  backoffSeconds,
  dlqBackoffSeconds,
} from '../../src/audit/limits';

const toml = readFileSync(new URL('../../wrangler.toml', import.meta.url), 'utf8');

/** The key = value lines of each `[[queues.consumers]]` table (flat scalars only). */
function consumers(): Record<string, string>[] {
  return toml
    .split(/^\[\[queues\.consumers\]\]\s*$/m)
    .slice(1)
    .map((block) => {
      const body = block.split(/^\[/m)[0] ?? '';
      const out: Record<string, string> = {};
      for (const m of body.matchAll(/^(\w+)\s*=\s*(.+?)\s*(?:#.*)?$/gm)) {
        out[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
      }
      return out;
    });
}

describe('wrangler.toml audit settings', () => {
  const byQueue = new Map(consumers().map((c) => [c.queue, c]));

  it('configures the vakt-audit consumer as src/audit/limits.ts expects', () => {
    expect(byQueue.get(AUDIT_QUEUE_NAME)).toMatchObject({
      max_retries: String(AUDIT_MAX_RETRIES),
      retry_delay: String(AUDIT_RETRY_BASE_S),
      dead_letter_queue: AUDIT_DLQ_NAME,
      max_batch_size: expect.stringMatching(/^\d+$/),
      max_batch_timeout: expect.stringMatching(/^\d+$/),
    });
  });

  it('configures the dead-letter consumer', () => {
    expect(byQueue.get(AUDIT_DLQ_NAME)).toMatchObject({
      max_retries: String(AUDIT_DLQ_MAX_RETRIES),
    });
  });

  it('schedules the retention cron', () => {
    expect(toml).toMatch(
      new RegExp(`crons\\s*=\\s*\\[[^\\]]*"${AUDIT_RETENTION_CRON.replace(/\*/g, '\\*')}"`),
    );
  });

  it('backs off 2, 4, 8 s and caps the delay', () => {
    expect([1, 2, 3, 4].map(backoffSeconds)).toEqual([2, 4, 8, 16]);
    expect(backoffSeconds(50)).toBe(300);
  });

  it('gives the dead-letter consumer about 15 minutes of retries', () => {
    const deliveries = AUDIT_DLQ_MAX_RETRIES + 1;
    const waits = Array.from({ length: deliveries - 1 }, (_, i) => dlqBackoffSeconds(i + 1));
    expect(waits).toEqual([30, 60, 120, 240, 480]);
  });
});
