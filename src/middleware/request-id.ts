/**
 * `X-Request-Id` on every response. A caller's id is kept when it is short, made of safe
 * characters, and passes vakt's identifier rules (src/pii/identifier.ts: no personal data or
 * secret by the detectors, and no run of nine or more digits outside a UUID or hex string) — it
 * flows into audit rows, logs and Sentry tags, so it must not become a side channel for personal
 * data (`req_01010012356`, `card-4111111111111111`). Anything else is replaced by a fresh UUID
 * and never echoed.
 */
import { createMiddleware } from 'hono/factory';
import { rememberCleanRequestId } from '../audit/row';
import { isCleanIdentifier } from '../pii/identifier';
import type { AppEnv } from '../types';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function acceptableRequestId(id: string | undefined): id is string {
  return id !== undefined && SAFE_ID.test(id) && isCleanIdentifier(id);
}

export function requestId() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const incoming = c.req.header('X-Request-Id');
    const id = acceptableRequestId(incoming) ? incoming : crypto.randomUUID();
    // Checked or generated here: the audit path need not scan it again.
    rememberCleanRequestId(id);
    c.set('requestId', id);
    c.header('X-Request-Id', id);
    await next();
  });
}
