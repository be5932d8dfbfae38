import type { Env as VaktEnv } from '../src/env';

declare global {
  namespace Cloudflare {
    interface Env extends VaktEnv {
      TEST_MIGRATIONS: import('cloudflare:test').D1Migration[];
    }
    interface GlobalProps {
      mainModule: typeof import('../src/index');
      durableNamespaces: 'RateLimiter' | 'Metrics';
    }
  }
}
