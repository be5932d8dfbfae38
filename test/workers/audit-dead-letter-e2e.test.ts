/**
 * One dead letter made by the platform, not by the test: a decision's audit event goes through the
 * REAL local queue while D1 refuses audit_log inserts (a trigger aborts them), so the queue
 * redelivers it with the consumer's backoff and real attempt counts until its last delivery
 * (max_retries + 1), where the consumer keeps it in audit_dead_letters. Then D1 recovers and a
 * replay writes it into the log exactly once. Nothing here calls the consumer directly.
 */
import { env } from 'cloudflare:test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_MAX_RETRIES, backoffSeconds } from '../../src/audit/limits';
import { admin, check, createKey } from './helpers';
import { clearAudit, countRows, waitFor } from './audit-helpers';

// Inserts into audit_log fail as a failing D1 would; reads (and other tables) keep working.
const park = () =>
  env.DB.exec(
    "CREATE TRIGGER refuse_audit_insert BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log refused by the test'); END",
  );
const restore = () => env.DB.exec('DROP TRIGGER refuse_audit_insert');

interface DeadLetter {
  decision_id: string | null;
  reason: string;
  attempts: number;
  dead_at: string;
  payload: { decision_id: string } | null;
}

describe('a dead letter through the real queue', () => {
  let parked = false;
  beforeAll(clearAudit);
  afterAll(async () => {
    if (parked) await restore();
  });

  it(
    'retries with backoff, dead-letters on the last delivery, and replays once',
    { timeout: 120_000 },
    async () => {
      await park();
      parked = true;
      const { key } = await createKey({ name: 'dlq-e2e' });
      const sentAt = Date.now();
      const res = await check(key, { model: 'gpt-4', operation: 'classify', input: 'hello' });
      expect(res.status).toBe(200);
      const { decision_id } = await res.json<{ decision_id: string }>();

      // Deliveries 1..max_retries fail and are retried after backoffSeconds(n); the last one
      // is kept. Bound: the backoff itself plus a generous allowance for batching and load.
      const backoffMs =
        Array.from({ length: AUDIT_MAX_RETRIES }, (_, i) => backoffSeconds(i + 1)).reduce(
          (a, b) => a + b,
          0,
        ) * 1000;
      let letter: DeadLetter | undefined;
      await waitFor(async () => {
        const list = await admin('/admin/audit/dead-letters');
        const items = (await list.json<{ items: DeadLetter[] }>()).items;
        letter = items.find((d) => d.decision_id === decision_id);
        return letter !== undefined;
      }, backoffMs + 60_000);
      expect(letter).toMatchObject({
        decision_id,
        reason: 'write_failed',
        attempts: AUDIT_MAX_RETRIES + 1,
        payload: { decision_id },
      });
      // It really waited out the backoff between deliveries.
      expect(Date.parse(letter!.dead_at) - sentAt).toBeGreaterThanOrEqual(backoffMs);

      await restore();
      parked = false;
      expect(await countRows('audit_log', 'decision_id = ?', decision_id)).toBe(0);
      const replay = await admin('/admin/audit/dead-letters/replay', {
        method: 'POST',
        body: JSON.stringify({}),
      });
      expect(replay.status).toBe(200);
      expect(await countRows('audit_log', 'decision_id = ?', decision_id)).toBe(1);
      // A second replay finds nothing pending and duplicates nothing.
      await admin('/admin/audit/dead-letters/replay', { method: 'POST', body: '{}' });
      expect(await countRows('audit_log', 'decision_id = ?', decision_id)).toBe(1);
    },
  );
});
