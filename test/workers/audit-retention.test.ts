/**
 * Retention (daily cron): D1 keeps the hot window (AUDIT_HOT_DAYS, default 30), archiving any
 * row not yet in R2 before trimming it; the R2 archive keeps AUDIT_RETENTION_DAYS (default 365)
 * of `date=` prefixes.
 */
import {
  createExecutionContext,
  createScheduledController,
  env,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { R2AuditArchive, type AuditArchive } from '../../src/audit/archive';
import { runRetention } from '../../src/audit/retention';
import { toRow } from '../../src/audit/row';
import { insertAuditRows } from '../../src/audit/store';
import worker from '../../src/index';
import { auditIds, clearAudit, countRows, makeEvent } from './audit-helpers';

const DAY = 86_400_000;
const NOW = Date.UTC(2027, 0, 1, 3, 17);

/** Events `ages` days old (fractional allowed), each blocked with one reason. */
async function seed(ages: number[], archived = true) {
  const events = ages.map((age) =>
    makeEvent({
      ts: new Date(NOW - age * DAY).toISOString(),
      allowed: false,
      outcome: 'blocked',
      reasons: ['contains_personal_data'],
    }),
  );
  await insertAuditRows(env.DB, events.map(toRow), { via: 'queue', now: NOW, archived });
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

async function archiveKeys(): Promise<string[]> {
  const { objects } = await env.AUDIT_ARCHIVE.list({ prefix: 'audit/v1/' });
  return objects.map((o) => o.key);
}

async function archivedIds(): Promise<string[]> {
  const ids: string[] = [];
  for (const key of await archiveKeys()) {
    const o = await env.AUDIT_ARCHIVE.get(key);
    const text = await new Response(o!.body.pipeThrough(new DecompressionStream('gzip'))).text();
    for (const line of text.trim().split('\n'))
      ids.push((JSON.parse(line) as { decision_id: string }).decision_id);
  }
  return ids.sort();
}

const archive = () => ({
  archive: new R2AuditArchive(env.AUDIT_ARCHIVE),
  bucket: env.AUDIT_ARCHIVE,
});

describe('audit retention', () => {
  beforeEach(async () => {
    await clearAudit();
    const keys = await archiveKeys();
    if (keys.length) await env.AUDIT_ARCHIVE.delete(keys);
  });

  it('trims D1 to AUDIT_HOT_DAYS (30) from the cron, with the reason index', async () => {
    const events = await seed([400, 31, 30.5, 29, 10, 0]);
    await runCron('17 3 * * *');
    expect(await auditIds()).toEqual(
      events
        .slice(3)
        .map((e) => e.decision_id)
        .sort(),
    );
    expect(await countRows('audit_log_reasons')).toBe(3);
  });

  it('archives rows that are not in R2 yet before trimming them (nothing is lost on upgrade)', async () => {
    const old = await seed([45, 40, 35], false);
    const recent = await seed([3], false);
    await runCron('17 3 * * *');
    expect(await auditIds()).toEqual(recent.map((e) => e.decision_id));
    expect(await archivedIds()).toEqual(old.map((e) => e.decision_id).sort());
    // The recent, unarchived row stays in D1 (and unarchived) until it leaves the window.
    expect(await countRows('audit_log', 'archived = 0')).toBe(1);
  });

  it('keeps unarchived rows in D1 while the archive refuses them', async () => {
    await seed([45], false);
    const failing: AuditArchive = { put: () => Promise.reject(new Error('R2 down (injected)')) };
    await expect(
      runRetention(env.DB, { archive: failing }, { hotDays: 30, retentionDays: 365, now: NOW }),
    ).rejects.toThrow(/R2 down/);
    expect(await countRows('audit_log')).toBe(1);
  });

  it('deletes archive date prefixes older than AUDIT_RETENTION_DAYS', async () => {
    const a = new R2AuditArchive(env.AUDIT_ARCHIVE);
    const ages = [400, 366, 364, 2];
    await a.put(
      ages.map((age) => makeEvent({ ts: new Date(NOW - age * DAY).toISOString() })),
      'queue',
    );
    expect(await archiveKeys()).toHaveLength(4);
    const r = await runRetention(env.DB, archive(), { hotDays: 30, retentionDays: 365, now: NOW });
    expect(r.objectsDeleted).toBe(2);
    const dates = (await archiveKeys()).map((k) => /date=([\d-]+)/.exec(k)![1]);
    expect(dates.sort()).toEqual([
      new Date(NOW - 364 * DAY).toISOString().slice(0, 10),
      new Date(NOW - 2 * DAY).toISOString().slice(0, 10),
    ]);
  });

  it('ignores other cron schedules', async () => {
    await seed([400]);
    await runCron('*/5 * * * *');
    expect(await countRows('audit_log')).toBe(1);
  });

  it('works in bounded chunks and reports when a run stopped early', async () => {
    await seed(Array.from({ length: 25 }, (_, i) => 30 + i));
    await seed([1, 2]);
    const opts = { hotDays: 7, retentionDays: 0, now: NOW, chunkSize: 4 };
    const partial = await runRetention(env.DB, archive(), { ...opts, maxChunks: 3 });
    expect(partial).toMatchObject({ deleted: 12, chunks: 3, truncated: true });
    expect(await countRows('audit_log')).toBe(15);
    const rest = await runRetention(env.DB, archive(), { ...opts, maxChunks: 100 });
    expect(rest).toMatchObject({ deleted: 13, chunks: 4, truncated: false });
    expect(await countRows('audit_log')).toBe(2);
    expect(await countRows('audit_log_reasons')).toBe(2);
  });

  it('keeps everything with 0 days', async () => {
    await seed([5000]);
    const r = await runRetention(env.DB, archive(), { hotDays: 0, retentionDays: 0, now: NOW });
    expect(r).toMatchObject({ deleted: 0, objectsDeleted: 0 });
    expect(await countRows('audit_log')).toBe(1);
  });

  it('removes replayed dead letters past the hot window and keeps pending ones', async () => {
    const insert = env.DB.prepare(
      `INSERT INTO audit_dead_letters (id, message_id, queue, reason, error, attempts, dead_at, replayed_at)
       VALUES (?, 'm', 'vakt-audit', 'write_failed', 'e', 4, ?, ?)`,
    );
    await env.DB.batch([
      insert.bind('old-replayed', NOW - 40 * DAY, NOW - 39 * DAY),
      insert.bind('old-pending', NOW - 400 * DAY, null),
      insert.bind('new-replayed', NOW - 2 * DAY, NOW - DAY),
    ]);
    const result = await runRetention(env.DB, archive(), {
      hotDays: 30,
      retentionDays: 365,
      now: NOW,
    });
    expect(result.deadLettersDeleted).toBe(1);
    const { results } = await env.DB.prepare('SELECT id FROM audit_dead_letters ORDER BY id').all();
    expect(results).toEqual([{ id: 'new-replayed' }, { id: 'old-pending' }]);
  });
});
