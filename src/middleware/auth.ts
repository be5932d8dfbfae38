/**
 * Authentication. API keys (`Authorization: Bearer` or `X-API-Key`) are looked up by SHA-256
 * through the per-isolate cache; the admin and metrics tokens are compared in constant time.
 */
import { createMiddleware } from 'hono/factory';
import { ProblemError } from '../errors';
import { keyCache } from '../keys/cache';
import { sha256Hex } from '../hash';
import { timingSafeEqualStrings } from '../keys/crypto';
import { findKeyByHash, type ApiKeyRecord } from '../keys/store';
import type { AppEnv } from '../types';

const MAX_CREDENTIAL_LENGTH = 512;

function unauthorized(detail: string, scheme = 'Bearer'): ProblemError {
  return new ProblemError(401, {
    detail,
    headers: { 'WWW-Authenticate': `${scheme} realm="vakt"` },
  });
}

/** The 401 for a revoked key (also raised when the rate limiter learns of a revocation first). */
export function keyRevoked(): ProblemError {
  return unauthorized('The API key has been revoked.');
}

/** The bearer token of a request, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return m?.[1] ?? null;
}

/** Resolves an API key to its record: cache first, then D1. Exported for tests. */
export async function resolveApiKey(
  db: D1Database,
  key: string,
  ttlMs: number,
  now = Date.now(),
): Promise<ApiKeyRecord | null> {
  const hash = await sha256Hex(key);
  const cached = keyCache.get(hash, now);
  if (cached !== undefined) return cached;
  const epoch = keyCache.epoch;
  const record = await findKeyByHash(db, hash);
  // Skipped if a revoke/update in this isolate happened while D1 answered (stale row).
  keyCache.set(hash, record, ttlMs, now, epoch);
  return record;
}

/** Requires a valid, unrevoked API key; sets `apiKey`. */
export function apiKeyAuth() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const key =
      bearerToken(c.req.header('Authorization')) ?? c.req.header('X-API-Key')?.trim() ?? null;
    if (!key)
      throw unauthorized('Send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`.');
    if (key.length > MAX_CREDENTIAL_LENGTH) throw unauthorized('The API key is not valid.');
    const record = await resolveApiKey(c.env.DB, key, c.get('config').keyCacheTtlMs);
    if (!record) throw unauthorized('The API key is not valid.');
    if (record.revoked_at) throw keyRevoked();
    c.set('apiKey', record);
    await next();
  });
}

/**
 * Requires `Authorization: Bearer <token>` equal to the secret named by `secret`.
 * With `optional`, an unset secret means the route is open (used for METRICS_TOKEN).
 */
export function tokenAuth(
  secret: 'ADMIN_TOKEN' | 'METRICS_TOKEN',
  opts: { optional?: boolean } = {},
) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const expected = c.env[secret];
    if (!expected) {
      if (opts.optional) return next();
      throw new ProblemError(503, {
        detail: `${secret} is not configured; this route is disabled.`,
      });
    }
    const token = bearerToken(c.req.header('Authorization'));
    if (
      !token ||
      token.length > MAX_CREDENTIAL_LENGTH ||
      !(await timingSafeEqualStrings(token, expected))
    ) {
      throw unauthorized(`This route requires \`Authorization: Bearer <${secret}>\`.`);
    }
    await next();
  });
}
