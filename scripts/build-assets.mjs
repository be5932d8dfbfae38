#!/usr/bin/env node
// Copies the pinned Swagger UI (npm `swagger-ui-dist`, exact version in package.json) into the
// Worker's static assets (assets/docs/), so GET /docs renders from vakt itself: no CDN, works
// offline and under a strict CSP. Run by wrangler before `dev` and `deploy` ([build] in
// wrangler.toml) and by vitest.config.ts before the tests; the copies are git-ignored.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli, ROOT } from './lib/cli.mjs';

/** The files of swagger-ui-dist that /docs loads, plus its licence. */
const SWAGGER_UI_FILES = ['swagger-ui-bundle.js', 'swagger-ui.css', 'LICENSE', 'NOTICE'];

export function buildAssets() {
  const from = path.join(ROOT, 'node_modules/swagger-ui-dist');
  const to = path.join(ROOT, 'assets/docs/swagger-ui');
  mkdirSync(to, { recursive: true });
  for (const f of SWAGGER_UI_FILES) copyFileSync(path.join(from, f), path.join(to, f));
  return JSON.parse(readFileSync(path.join(from, 'package.json'), 'utf8')).version;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  cli({
    usage: 'node scripts/build-assets.mjs',
    summary:
      'Copies the pinned swagger-ui-dist files into assets/docs/swagger-ui/ (static assets served ' +
      'by the Worker for /docs). wrangler runs it before dev and deploy.',
    options: {},
  });
  buildAssets();
}
