/**
 * Reporting of unexpected errors. Logs a structured line without request data; Sentry reporting
 * (toucan-js) hooks in here.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../types';

export function reportError(c: Context<AppEnv>, err: unknown): void {
  const name = err instanceof Error ? err.name : typeof err;
  console.error(
    JSON.stringify({ msg: 'unhandled error', error: name, request_id: c.get('requestId') }),
  );
}
