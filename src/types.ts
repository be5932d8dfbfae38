/** Hono generics shared by the app, routes and middleware. */
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

export interface AppEnv {
  Bindings: Env;
  Variables: Variables;
}
