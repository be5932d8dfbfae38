/**
 * GET /docs renders offline: a real headless Chromium loads the page from `wrangler dev` (which
 * serves the Worker and its static assets, as production does) with every other destination
 * refused, and the rendered DOM must hold the operation list of /openapi.json. A page that
 * needed a CDN would render nothing here.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTools } from './support/binaries';
import { Stack, type Vakt } from './support/stack';

const tools = requireTools('/docs in Chromium (docs-chromium.test.ts)', ['chromium'] as const);

describe.skipIf(!tools)('GET /docs in headless Chromium, network refused', () => {
  const stack = new Stack();
  let vakt: Vakt;
  beforeAll(async () => {
    vakt = await stack.startVakt({ adminToken: 'docs-admin', metricsToken: 'docs-metrics' });
  }, 120_000);
  afterAll(() => stack.stop(), 30_000);

  /** The DOM after scripts ran, or Chromium's own error output. */
  function renderedDom(url: string): string {
    const profile = mkdtempSync(path.join(tmpdir(), 'vakt-chromium-'));
    try {
      const origin = new URL(url);
      const r = spawnSync(
        tools!.chromium,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          `--user-data-dir=${profile}`,
          // Every host name fails to resolve, and every connection but the Worker's goes to a
          // proxy that does not exist: a CDN or validator call could not succeed.
          '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
          '--proxy-server=127.0.0.1:9',
          `--proxy-bypass-list=${origin.host}`,
          // Lets the page fetch /openapi.json and render before the DOM is dumped.
          '--virtual-time-budget=20000',
          '--dump-dom',
          url,
        ],
        { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 },
      );
      if (r.status !== 0) throw new Error(`chromium exited ${r.status}:\n${r.stderr}`);
      return r.stdout;
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  }

  it('shows every operation of /openapi.json', { timeout: 90_000 }, async () => {
    const doc = (await (await vakt.fetch('/openapi.json')).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const expected = Object.entries(doc.paths)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(expected).toContain('POST /v1/check');

    const dom = renderedDom(`${vakt.url}/docs`);
    // Swagger UI renders each operation as an .opblock with its method and data-path.
    const rendered = [
      ...dom.matchAll(
        /opblock-summary-method">([A-Z]+)<\/span>.*?opblock-summary-path" data-path="([^"]+)"/g,
      ),
    ]
      .map((m) => `${m[1]} ${m[2]}`)
      .sort();
    expect(rendered).toEqual(expected);
  });
});
