/** Retention: the daily cron deletes audit rows older than AUDIT_RETENTION_DAYS, in chunks. */
import {
  createExecutionContext,
  createScheduledController,
  env,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { runRetention } from '../../src/audit/retention';
import { toRow } from '../../src/audit/row';
import { insertAuditRows } from '../../src/audit/store';
import worker from '../../src/index';
import { auditIds, clearAudit, countRows, makeEvent } from './audit-helpers';

const DAY = 86_400_000;
const NOW = Date.UTC(2027, 0, 1, 3, 17);

/** Events `ages` days old (fractional allowed), each blocked with one reason. */
async function seed(ages: number[]) {
  const events = ages.map((age) =>
    makeEvent({
      ts: new Date(NOW - age * DAY).toISOString(),
      allowed: false,
      outcome: 'blocked',
      reasons: ['contains_personal_data'],
    }),
  );
  await insertAuditRows(env.DB, events.map(toRow), { via: 'queue', now: NOW, archived: true });
  return events;
}

async function runCron(cron: string) {
  const ctx = createExecutionContext();
  await worker.scheduled(
    createScheduledController({ cron, scheduledTime: new Date(NOW) }),
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
}

describe('audit retention', () => {
  beforeEach(clearAudit);

  it('deletes rows older than AUDIT_RETENTION_DAYS (365) from the cron, with their reason index', async () => {
    const events = await seed([400, 366, 365.5, 364, 10, 0]);
    await runCron('17 3 * * *');
    expect(await auditIds()).toEqual(
      events
        .slice(3)
        .map((e) => e.decision_id)
        .sort(),
    );
    expect(await countRows('audit_log_reasons')).toBe(3);
  });

  it('ignores other cron schedules', async () => {
    await seed([400]);
    await runCron('*/5 * * * *');
    expect(await countRows('audit_log')).toBe(1);
  });

  it('works in bounded chunks and reports when a run stopped early', async () => {
    await seed(Array.from({ length: 25 }, (_, i) => 30 + i));
    await seed([1, 2]);
    const partial = await runRetention(env.DB, { days: 7, now: NOW, chunkSize: 4, maxChunks: 3 });
    expect(partial).toMatchObject({ deleted: 12, chunks: 3, truncated: true });
    expect(await countRows('audit_log')).toBe(15);
    const rest = await runRetention(env.DB, { days: 7, now: NOW, chunkSize: 4, maxChunks: 100 });
    expect(rest).toMatchObject({ deleted: 13, chunks: 4, truncated: false });
    expect(await countRows('audit_log')).toBe(2);
    expect(await countRows('audit_log_reasons')).toBe(2);
  });

  it('keeps everything with 0 days', async () => {
    await seed([5000]);
    expect(await runRetention(env.DB, { days: 0, now: NOW })).toMatchObject({ deleted: 0 });
    expect(await countRows('audit_log')).toBe(1);
  });

  it('removes replayed dead letters past retention and keeps pending ones', async () => {
    const insert = env.DB.prepare(
      `INSERT INTO audit_dead_letters (id, message_id, queue, reason, error, attempts, dead_at, replayed_at)
       VALUES (?, 'm', 'vakt-audit', 'write_failed', 'e', 4, ?, ?)`,
    );
    await env.DB.batch([
      insert.bind('old-replayed', NOW - 400 * DAY, NOW - 399 * DAY),
      insert.bind('old-pending', NOW - 400 * DAY, null),
      insert.bind('new-replayed', NOW - 2 * DAY, NOW - DAY),
    ]);
    const result = await runRetention(env.DB, { days: 365, now: NOW });
    expect(result.deadLettersDeleted).toBe(1);
    const { results } = await env.DB.prepare('SELECT id FROM audit_dead_letters ORDER BY id').all();
    expect(results).toEqual([{ id: 'new-replayed' }, { id: 'old-pending' }]);
  });
});
