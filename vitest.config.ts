import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

const root = path.dirname(fileURLToPath(import.meta.url));

/**
 * Two projects:
 * - `workers`: everything that touches the Worker runs inside workerd through
 *   @cloudflare/vitest-pool-workers, with the real D1, Queue and Durable Object bindings
 *   declared in wrangler.toml.
 * - `node`: tests that drive external binaries (promtool, prometheus, wrangler dev) or Node-only
 *   libraries (OpenAPI validator, prom-client) from the outside.
 */
export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest(async () => ({
            main: './src/index.ts',
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: await readD1Migrations(path.join(root, 'migrations')),
                ADMIN_TOKEN: 'test-admin-token',
                ENVIRONMENT: 'test',
              },
            },
          })),
        ],
        test: {
          name: 'workers',
          include: ['test/workers/**/*.test.ts'],
          setupFiles: ['./test/workers/setup.ts'],
          // Node side: a local HTTP server standing in for Sentry (see test/node/support/sentry-sink.ts).
          globalSetup: ['./test/node/support/sentry-global-setup.ts'],
        },
      },
      {
        resolve: {
          alias: {
            'cloudflare:workers': path.join(root, 'test/node/support/cloudflare-workers-shim.ts'),
          },
        },
        test: {
          name: 'node',
          environment: 'node',
          // Pure-logic tests live beside their modules (src/**/*.test.ts) and run here, without workerd.
          include: ['test/node/**/*.test.ts', 'src/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
