/** Types shared across the code base: the Hono generics of the app, routes and middleware. */
import type { Config } from './config';
import type { Env } from './env';
import type { ApiKeyRecord } from './keys/store';
import type { RequestTrace } from './observability/request-trace';

export interface Variables {
  requestId: string;
  /** The request's W3C trace (src/middleware/trace-context.ts). */
  trace: RequestTrace;
  config: Config;
  /** Set by `apiKeyAuth()` on /v1 routes. */
  apiKey: ApiKeyRecord;
}

/** What code that schedules work after the response needs of a request's or batch's context. */
export type WaitUntil = Pick<ExecutionContext, 'waitUntil'>;

export interface AppEnv {
  Bindings: Env;
  Variables: Variables;
}
