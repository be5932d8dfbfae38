/**
 * /admin/audit — query the audit log and manage dead letters (ADMIN_TOKEN; the `/admin/*` token
 * middleware in app.ts covers every route here).
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { exportStream, MAX_EXPORT_RANGE_MS } from '../audit/export';
import { captureException } from '../observability/report';
import { archiveFor } from '../audit/archive';
import { decodeCursor, encodeCursor } from '../audit/cursor';
import { keysetPage } from '../pagination';
import { replayDeadLetters } from '../audit/replay';
import { toRecord } from '../audit/row';
import { getAudit, listAudit, listDeadLetters, type DeadLetterRow } from '../audit/store';
import { ProblemError } from '../errors';
import { flushMetrics } from '../metrics/flush';
import {
  AuditExportQuerySchema,
  AuditListQuerySchema,
  AuditListSchema,
  AuditRecordSchema,
  DeadLetterListQuerySchema,
  DeadLetterListSchema,
  DecisionIdParamSchema,
  ReplayRequestSchema,
  ReplayResultSchema,
} from '../schemas/audit';
import { adminSecurity, problems } from '../schemas/common';
import type { AppEnv } from '../types';

export const adminAuditRoutes = new OpenAPIHono<AppEnv>();

const tags = ['Admin: audit'];
const json = <T>(schema: T) => ({ 'application/json': { schema } });

adminAuditRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/admin/audit',
    tags,
    summary: 'Query the audit log',
    description:
      'Decisions newest first, ordered by (ts, decision_id) — a total order, so following `next_cursor` returns every row exactly once. `since` is inclusive, `until` exclusive. Rows appear once the queue consumer has written them (normally within seconds).',
    security: adminSecurity,
    request: { query: AuditListQuerySchema },
    responses: {
      200: {
        description: 'One page; `next_cursor` is null on the last.',
        content: json(AuditListSchema),
      },
      ...problems(400, 401, 500, 503),
    },
  }),
  async (c) => {
    const q = c.req.valid('query');
    const limit = q.limit ?? 50;
    const rows = await listAudit(
      c.env.DB,
      {
        keyId: q.key_id,
        allowed: q.allowed === undefined ? undefined : q.allowed === 'true',
        outcome: q.outcome,
        reason: q.reason,
        since: q.since === undefined ? undefined : Date.parse(q.since),
        until: q.until === undefined ? undefined : Date.parse(q.until),
      },
      { limit: limit + 1, after: q.cursor ? decodeCursor(q.cursor) : undefined },
    );
    const { page, next_cursor } = keysetPage(rows, limit, (last) =>
      encodeCursor({ ts: last.ts, id: last.decision_id }),
    );
    const archive = archivePointer(c.get('config').auditHotDays, q.since, q.until);
    return c.json(
      { items: page.map(toRecord), next_cursor, ...(archive ? { archive } : {}) },
      200,
      {
        'Cache-Control': 'no-store',
      },
    );
  },
);

/**
 * Where to look for the part of a query before the D1 hot window: an export URL (at most the
 * export's maximum range, ending at the window's start or the query's `until`).
 */
function archivePointer(hotDays: number, since: string | undefined, until: string | undefined) {
  if (hotDays <= 0) return undefined;
  const hotStart = Date.now() - hotDays * DAY_MS;
  if (since !== undefined && Date.parse(since) >= hotStart) return undefined;
  const end = Math.min(until === undefined ? hotStart : Date.parse(until), hotStart);
  const start = Math.max(
    since === undefined ? -Infinity : Date.parse(since),
    end - MAX_EXPORT_RANGE_MS,
  );
  const iso = (ms: number) => new Date(ms).toISOString();
  const qs = new URLSearchParams({ since: iso(start), until: iso(end) });
  return {
    before: iso(hotStart),
    export: `/admin/audit/export?${qs}`,
    detail: `Decisions before ${iso(hotStart)} (AUDIT_HOT_DAYS = ${hotDays}) are only in the archive: read them with GET /admin/audit/export (at most ${MAX_EXPORT_RANGE_MS / DAY_MS} days per request) or with DuckDB (docs/audit.md).`,
  };
}

const DAY_MS = 86_400_000;

adminAuditRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/admin/audit/export',
    tags,
    summary: 'Export archived audit events (NDJSON)',
    description: `Every archived event with \`since\` ≤ ts < \`until\`, one JSON object per line (the audit event as stored), deduplicated by \`decision_id\` and ordered by (ts, decision_id). Streamed from the R2 archive without loading the range into memory. A range longer than ${MAX_EXPORT_RANGE_MS / DAY_MS} days is refused (400): split it, or read the archive directly with DuckDB (docs/audit.md).`,
    security: adminSecurity,
    request: { query: AuditExportQuerySchema },
    responses: {
      200: {
        description: 'NDJSON stream of audit events.',
        content: { 'application/x-ndjson': { schema: z.string() } },
      },
      ...problems(400, 401, 500, 503),
    },
  }),
  (c) => {
    const q = c.req.valid('query');
    const since = Date.parse(q.since);
    const until = q.until === undefined ? Date.now() : Date.parse(q.until);
    const body = exportStream(c.env.AUDIT_ARCHIVE, since, until, (err) =>
      captureException(c.env, c.executionCtx, err, {
        component: 'audit_export',
        route: '/admin/audit/export',
      }),
    );
    return c.body(body, 200, {
      'Content-Type': 'application/x-ndjson',
      'Cache-Control': 'no-store',
    }) as never;
  },
);

// Registered before /admin/audit/{decision_id} so "dead-letters" is never taken for an id.
adminAuditRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/admin/audit/dead-letters',
    tags,
    summary: 'List audit dead letters',
    description:
      'Audit events that could not be written (invalid, rejected by D1 on their last delivery, or dead-lettered by the queue). Newest first.',
    security: adminSecurity,
    request: { query: DeadLetterListQuerySchema },
    responses: {
      200: { description: 'One page.', content: json(DeadLetterListSchema) },
      ...problems(400, 401, 500, 503),
    },
  }),
  async (c) => {
    const q = c.req.valid('query');
    const limit = q.limit ?? 50;
    const rows = await listDeadLetters(c.env.DB, {
      status: q.status ?? 'pending',
      limit: limit + 1,
      after: q.cursor ? decodeCursor(q.cursor) : undefined,
    });
    const { page, next_cursor } = keysetPage(rows, limit, (last) =>
      encodeCursor({ ts: last.dead_at, id: last.id }),
    );
    return c.json({ items: page.map(presentDeadLetter), next_cursor }, 200, {
      'Cache-Control': 'no-store',
    });
  },
);

adminAuditRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/admin/audit/dead-letters/replay',
    tags,
    summary: 'Replay audit dead letters',
    description:
      'Writes pending dead letters to the audit log (idempotent: an event already logged is not duplicated) and marks them replayed. One that still fails stays pending with `replay_error`. Send `{}` to replay the oldest pending ones.',
    security: adminSecurity,
    request: { body: { required: true, content: json(ReplayRequestSchema) } },
    responses: {
      200: { description: 'What was replayed.', content: json(ReplayResultSchema) },
      ...problems(400, 401, 413, 415, 500, 503),
    },
  }),
  async (c) => {
    const body = c.req.valid('json');
    const result = await replayDeadLetters(c.env.DB, {
      archive: archiveFor(c.env),
      ids: body.ids,
      // With explicit ids, every one of them is replayed.
      limit: body.ids ? body.ids.length : (body.limit ?? 100),
    });
    flushMetrics(c.env, c.executionCtx);
    return c.json(result, 200);
  },
);

adminAuditRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/admin/audit/{decision_id}',
    tags,
    summary: 'Get one audit record',
    security: adminSecurity,
    request: { params: DecisionIdParamSchema },
    responses: {
      200: { description: 'The record.', content: json(AuditRecordSchema) },
      ...problems(400, 401, 404, 500, 503),
    },
  }),
  async (c) => {
    const { decision_id } = c.req.valid('param');
    const row = await getAudit(c.env.DB, decision_id);
    if (!row) {
      throw new ProblemError(404, {
        detail: `No audit record for decision ${decision_id} in the hot window (records are written asynchronously, normally within seconds; decisions older than AUDIT_HOT_DAYS are only in the archive: GET /admin/audit/export).`,
      });
    }
    return c.json(toRecord(row), 200, { 'Cache-Control': 'no-store' });
  },
);

function presentDeadLetter(d: DeadLetterRow) {
  let payload: unknown = null;
  try {
    payload = d.payload === null ? null : (JSON.parse(d.payload) as unknown);
  } catch {
    payload = null;
  }
  return {
    ...d,
    payload,
    dead_at: new Date(d.dead_at).toISOString(),
    replayed_at: d.replayed_at === null ? null : new Date(d.replayed_at).toISOString(),
  };
}
