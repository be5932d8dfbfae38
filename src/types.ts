/** Hono generics shared by the app, routes and middleware. */
import type { Config } from './config';
import type { Env } from './env';
import type { ApiKeyRecord } from './keys/store';

export interface Variables {
  requestId: string;
  config: Config;
  /** Set by `apiKeyAuth()` on /v1 routes. */
  apiKey: ApiKeyRecord;
}

export interface AppEnv {
  Bindings: Env;
  Variables: Variables;
}
