import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import { buildAssets } from './scripts/build-assets.mjs';

const root = path.dirname(fileURLToPath(import.meta.url));

/**
 * Output that is not about the tests, dropped so a run reads as what it is:
 * - workerd logs `disconnected: WebSocket peer disconnected` whenever the pool closes its
 *   connection to a finished test file's runner: teardown, not a failure.
 *   @cloudflare/vitest-pool-workers 0.15.1 already drops the sibling messages ("WebSocket was
 *   aborted", "operation canceled") and later versions add this one to the same list, but a newer
 *   pool pins a second workerd (TOOLCHAIN.md).
 * - The pool's "Error sending to pool: … Can't call WebSocket send() after close()" (with the
 *   message it could not send): work a finished file left behind (a queue redelivery after its
 *   backoff) asked the closed runner for a module. The file's results are already reported.
 * - wrangler's "Using secrets defined in .dev.vars", once per file after `npm run dev` created
 *   that file: the workers project sets every secret itself (below), so it is not true here.
 * Exactly these records, and nothing else, are dropped.
 */
const NOISE = [
  /^exception = workerd\/api\/web-socket\.c\+\+:\d+: disconnected: WebSocket peer disconnected\n$/,
  /^Error sending to pool: TypeError: Can't call WebSocket send\(\) after close\(\)\.\n/,
  /^Using secrets defined in \.dev\.vars\n$/,
];
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) =>
    typeof chunk === 'string' && NOISE.some((re) => re.test(chunk))
      ? true
      : write(chunk, ...rest)) as typeof stream.write;
}

/**
 * Two projects:
 * - `workers`: everything that touches the Worker runs inside workerd through
 *   @cloudflare/vitest-pool-workers, with the real D1, Queue and Durable Object bindings
 *   declared in wrangler.toml.
 * - `node`: tests that drive external binaries (promtool, prometheus, wrangler dev) or Node-only
 *   libraries (OpenAPI validator, prom-client) from the outside.
 */
// The Worker's static assets (the pinned Swagger UI for /docs), as `wrangler dev` builds them.
buildAssets();

export default defineConfig({
  test: {
    // After the summary: a banner when suites were skipped for missing tools (never silent).
    reporters: ['default', './test/node/support/missing-tools-reporter.ts'],
    projects: [
      {
        plugins: [
          cloudflareTest(async () => ({
            main: './src/index.ts',
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: await readD1Migrations(path.join(root, 'migrations')),
                // Every secret .dev.vars may set (`npm run dev` creates it; wrangler merges it in),
                // so a developer's local settings cannot change what the tests see. Empty = unset.
                ADMIN_TOKEN: 'test-admin-token',
                METRICS_TOKEN: '',
                SENTRY_DSN: '',
                AUDIT_HASH_KEY: 'test-audit-hash-key-000000000000000000',
                ENVIRONMENT: 'test',
                // Under vite's module runner a tokenizer takes seconds to load in every test
                // file; tests of token counting use keys with a token_limit (docs/tokens.md).
                TOKEN_USAGE: 'quota',
              },
            },
          })),
        ],
        test: {
          name: 'workers',
          include: ['test/workers/**/*.test.ts'],
          // Not vitest's 5 s: one request through workerd (DO RPC, D1, queue) can take seconds on
          // a loaded 2-core machine. Tests that poll or load more set their own, larger bound.
          testTimeout: 30_000,
          hookTimeout: 30_000,
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
