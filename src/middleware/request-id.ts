/**
 * `X-Request-Id` on every response. A caller's id is kept when it is short, made of safe
 * characters, and carries no personal data or secret by vakt's own detectors — it flows into
 * audit rows, logs and Sentry tags, so it must not become a side channel for personal data.
 * Anything else is replaced by a fresh UUID.
 */
import { createMiddleware } from 'hono/factory';
import { scanText } from '../pii';
import type { AppEnv } from '../types';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function acceptableRequestId(id: string | undefined): id is string {
  return id !== undefined && SAFE_ID.test(id) && scanText(id).length === 0;
}

export function requestId() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const incoming = c.req.header('X-Request-Id');
    const id = acceptableRequestId(incoming) ? incoming : crypto.randomUUID();
    c.set('requestId', id);
    c.header('X-Request-Id', id);
    await next();
  });
}
