import type { Env as VaktEnv } from '../src/env';

declare global {
  namespace Cloudflare {
    interface Env extends VaktEnv {
      TEST_MIGRATIONS: import('cloudflare:test').D1Migration[];
      /** The static assets ([assets] in wrangler.toml), as the asset router serves them. */
      ASSETS: Fetcher;
    }
    interface GlobalProps {
      mainModule: typeof import('../src/index');
      durableNamespaces: 'RateLimiter' | 'Metrics';
    }
  }
}
