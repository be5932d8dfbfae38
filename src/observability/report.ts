/**
 * Reporting of unexpected errors. Logs a structured line without request data; Sentry reporting
 * (toucan-js) hooks in here.
 */
import type { Context } from 'hono';
import type { Env } from '../env';
import type { AppEnv } from '../types';

export type WaitUntil = Pick<ExecutionContext, 'waitUntil'>;

/** Tags any report may carry. Never personal data, never a key (api_key_id is the UUID). */
export interface ReportTags {
  route?: string;
  request_id?: string;
  api_key_id?: string;
  component?: string;
  [tag: string]: string | undefined;
}

/** An unexpected error inside an HTTP request (called from the single `onError`). */
export function reportError(c: Context<AppEnv>, err: unknown): void {
  captureException(c.env, c.executionCtx, err, { request_id: c.get('requestId') });
}

/** An error outside the request path: queue consumers, Durable Object failures, fail-open events. */
export function captureException(
  _env: Env,
  _ctx: WaitUntil,
  err: unknown,
  tags: ReportTags = {},
): void {
  const name = err instanceof Error ? err.name : typeof err;
  console.error(JSON.stringify({ msg: 'error', error: name, ...tags }));
}
