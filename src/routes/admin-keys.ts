/** /admin/keys — create, list, read, update and revoke API keys (ADMIN_TOKEN). */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Config } from '../config';
import { issueErrors, ProblemError, validationError } from '../errors';
import {
  mergePolicy,
  policyVersion,
  PolicyOverrideSchema,
  PolicySchema,
  type PolicyOverride,
} from '../governance/policy';
import { keyCache } from '../keys/cache';
import { mergePatch } from '../merge-patch';
import { reportError } from '../observability/report';
import { leasePool, readUsage, syncKey } from '../rate-limit';
import * as store from '../keys/store';
import { adminSecurity, problems } from '../schemas/common';
import {
  CreatedKeySchema,
  CreateKeyRequestSchema,
  KeyIdParamSchema,
  KeyListQuerySchema,
  KeyListSchema,
  KeySchema,
  KeyUsageSchema,
  UpdateKeyRequestSchema,
} from '../schemas/keys';
import { decodeCursor, encodeCursor, keysetPage } from '../pagination';
import type { AppEnv } from '../types';

export const adminKeyRoutes = new OpenAPIHono<AppEnv>();

const tags = ['Admin: keys'];
const json = <T>(schema: T) => ({ 'application/json': { schema } });

/** A key as the API shows it: with its effective policy and version, never the hash. */
async function present(record: store.ApiKeyRecord, config: Config) {
  const effective = mergePolicy(config.defaultPolicy, record.policy);
  return {
    ...record,
    effective_policy: effective,
    policy_version: record.policy ? await policyVersion(effective) : config.defaultPolicyVersion,
  };
}

/** The override must also produce a valid policy once merged (e.g. no empty model list). */
function assertEffectivePolicy(config: Config, override: PolicyOverride | null | undefined): void {
  if (!override) return;
  const result = PolicySchema.safeParse(mergePolicy(config.defaultPolicy, override));
  if (!result.success) {
    throw validationError(issueErrors(result.error.issues, ['policy']));
  }
}

/**
 * Tells the key's RATE_LIMITER object about the change, so isolates holding the old record (key
 * cache) or a lease learn it at their next call to the object — within RATE_LIMIT_LEASE_MS —
 * instead of after KEY_CACHE_TTL_S. D1 already holds the change; if the object cannot be told the
 * route says so (503; repeating the request is safe) rather than promise a bound it cannot keep.
 */
async function propagate(
  c: Context<AppEnv>,
  record: store.ApiKeyRecord,
  config: Config,
): Promise<void> {
  keyCache.evictId(record.id);
  leasePool.forget(record.id, Date.now());
  try {
    await syncKey(c.env.RATE_LIMITER, record.id, {
      version: record.updated_at,
      rule: mergePolicy(config.defaultPolicy, record.policy).rate_limit,
      revoked: record.revoked_at !== null,
    });
  } catch (err) {
    reportError(c, err);
    throw new ProblemError(503, {
      detail:
        'The change is stored, but the key’s rate limiter could not be told; other isolates apply it within KEY_CACHE_TTL_S. Repeat the request to retry.',
      headers: { 'Retry-After': '1' },
    });
  }
}

function notFound(id: string): ProblemError {
  return new ProblemError(404, { detail: `No API key with id ${id}.` });
}

adminKeyRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/admin/keys',
    tags,
    summary: 'Create an API key',
    description: 'The key is in this response only; vakt stores its SHA-256.',
    security: adminSecurity,
    request: { body: { required: true, content: json(CreateKeyRequestSchema) } },
    responses: {
      201: { description: 'Created.', content: json(CreatedKeySchema) },
      ...problems(400, 401, 413, 415, 500, 503),
    },
  }),
  async (c) => {
    const body = c.req.valid('json');
    const config = c.get('config');
    assertEffectivePolicy(config, body.policy);
    const { record, key } = await store.createKey(c.env.DB, {
      name: body.name,
      policy: body.policy ?? null,
      now: new Date(),
    });
    return c.json({ ...(await present(record, config)), key }, 201, {
      Location: `/admin/keys/${record.id}`,
      'Cache-Control': 'no-store',
    });
  },
);

adminKeyRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/admin/keys',
    tags,
    summary: 'List API keys',
    security: adminSecurity,
    request: { query: KeyListQuerySchema },
    responses: {
      200: {
        description: 'Keys ordered by id; follow `next_cursor`.',
        content: json(KeyListSchema),
      },
      ...problems(400, 401, 500, 503),
    },
  }),
  async (c) => {
    const { limit = 50, cursor } = c.req.valid('query');
    const config = c.get('config');
    const after = cursor ? afterId(cursor) : undefined;
    const rows = await store.listKeys(c.env.DB, { limit: limit + 1, after });
    const { page, next_cursor } = keysetPage(rows, limit, (last) => keyCursor(last.id));
    return c.json(
      { items: await Promise.all(page.map((r) => present(r, config))), next_cursor },
      200,
    );
  },
);

adminKeyRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/admin/keys/{id}',
    tags,
    summary: 'Get an API key',
    security: adminSecurity,
    request: { params: KeyIdParamSchema },
    responses: {
      200: { description: 'The key (never the key itself).', content: json(KeySchema) },
      ...problems(400, 401, 404, 500, 503),
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const record = await store.getKey(c.env.DB, id);
    if (!record) throw notFound(id);
    return c.json(await present(record, c.get('config')), 200);
  },
);

adminKeyRoutes.openapi(
  createRoute({
    method: 'patch',
    path: '/admin/keys/{id}',
    tags,
    summary: 'Rename a key or change its policy',
    description:
      'A JSON Merge Patch (RFC 7396; `application/merge-patch+json`, or `application/json` with the same meaning): ' +
      'fields the patch does not name keep their values. A changed policy applies to the next request in this ' +
      'isolate, and elsewhere within RATE_LIMIT_LEASE_MS (1 s by default) of the rate limiter learning it ' +
      '(this request tells it). A revoked key cannot be changed (409).',
    security: adminSecurity,
    request: {
      params: KeyIdParamSchema,
      body: {
        required: true,
        content: {
          'application/merge-patch+json': { schema: UpdateKeyRequestSchema },
          'application/json': { schema: UpdateKeyRequestSchema },
        },
      },
    },
    responses: {
      200: { description: 'The updated key.', content: json(KeySchema) },
      ...problems(400, 401, 404, 409, 413, 415, 500, 503),
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const config = c.get('config');
    const result = await store.patchKey(
      c.env.DB,
      id,
      (current) => ({
        name: body.name,
        policy:
          body.policy === undefined
            ? undefined
            : patchedPolicy(config, current.policy, body.policy),
      }),
      new Date(),
    );
    if (!result.ok) {
      if (result.reason === 'not_found') throw notFound(id);
      throw new ProblemError(409, {
        detail:
          result.reason === 'revoked'
            ? `API key ${id} is revoked; a revoked key cannot be changed.`
            : `API key ${id} was changed concurrently; send the PATCH again.`,
      });
    }
    await propagate(c, result.record, config);
    return c.json(await present(result.record, config), 200);
  },
);

/**
 * The stored override with a merge patch applied, validated like a created policy (paths point
 * into the request's `policy`). An override left empty is stored as `null` (the default policy).
 */
function patchedPolicy(
  config: Config,
  current: PolicyOverride | null,
  patch: Record<string, unknown> | null,
): PolicyOverride | null {
  if (patch === null) return null;
  const merged = PolicyOverrideSchema.safeParse(mergePatch(current ?? {}, patch));
  if (!merged.success) {
    throw validationError(issueErrors(merged.error.issues, ['policy']));
  }
  if (Object.keys(merged.data).length === 0) return null;
  assertEffectivePolicy(config, merged.data);
  return merged.data;
}

adminKeyRoutes.openapi(
  createRoute({
    method: 'delete',
    path: '/admin/keys/{id}',
    tags,
    summary: 'Revoke an API key',
    description:
      'Refused at once in this isolate; in other isolates within RATE_LIMIT_LEASE_MS (1 s by default). Idempotent.',
    security: adminSecurity,
    request: { params: KeyIdParamSchema },
    responses: {
      200: { description: 'The revoked key.', content: json(KeySchema) },
      ...problems(400, 401, 404, 500, 503),
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const record = await store.revokeKey(c.env.DB, id, new Date());
    if (!record) throw notFound(id);
    await propagate(c, record, c.get('config'));
    return c.json(await present(record, c.get('config')), 200);
  },
);

adminKeyRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/admin/keys/{id}/usage',
    tags,
    summary: 'Current quota usage of an API key',
    description:
      'Both quotas of the key’s effective policy as its rate limiter holds them now: requests (`rate_limit`) and input tokens (`token_limit`, null when the policy has none). Read-only: the read consumes nothing. Quotas refill continuously (GCRA), so there is no fixed window start; `used` is what still counts against the quota now. See docs/tokens.md.',
    security: adminSecurity,
    request: { params: KeyIdParamSchema },
    responses: {
      200: { description: 'The key’s usage.', content: json(KeyUsageSchema) },
      ...problems(400, 401, 404, 500, 503),
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const record = await store.getKey(c.env.DB, id);
    if (!record) throw notFound(id);
    const policy = mergePolicy(c.get('config').defaultPolicy, record.policy);
    let usage: Awaited<ReturnType<typeof readUsage>>;
    try {
      usage = await readUsage(
        c.env.RATE_LIMITER,
        id,
        policy.rate_limit,
        policy.token_limit ?? null,
      );
    } catch (err) {
      reportError(c, err);
      throw new ProblemError(503, {
        detail: 'The key’s rate limiter could not be read. Repeat the request to retry.',
        headers: { 'Retry-After': '1' },
      });
    }
    return c.json({ key_id: id, ...usage }, 200, { 'Cache-Control': 'no-store' });
  },
);

/** Key list cursor: the id of the page's last key (keys are listed by id). */
const keyCursor = (id: string) => encodeCursor([id]);
const afterId = (cursor: string) =>
  decodeCursor(cursor, (v) =>
    Array.isArray(v) && v.length === 1 && typeof v[0] === 'string' && v[0].length <= 200
      ? v[0]
      : undefined,
  );
