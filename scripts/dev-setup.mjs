#!/usr/bin/env node
// Local set-up for `npm run dev`: create .dev.vars from the committed example, apply local D1
// migrations, and seed the documented demo API key (local D1 only). Safe to run any number of
// times; `npm run dev` runs it first, `npm run dev:setup` runs it alone.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli, QUIET_WRANGLER_ENV, ROOT, WRANGLER_JS } from './lib/cli.mjs';

/** The demo key from the README. It exists only in the local D1 database under .wrangler/. */
export const DEMO_API_KEY = 'vakt_demo_local_only_0000000000000000000000000';
const DEMO_KEY_ID = '00000000-0000-4000-8000-000000000001';

export const SETUP_SUMMARY =
  'Creates .dev.vars from .dev.vars.example when it is missing, applies the D1 migrations to the ' +
  'local database (.wrangler/state) and seeds the demo API key there. Touches nothing remote.';

export function setup() {
  const env = { ...process.env, ...QUIET_WRANGLER_ENV };
  const wrangler = (args, stdio = 'inherit') =>
    execFileSync(process.execPath, [WRANGLER_JS, ...args], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      stdio: ['ignore', stdio, 'inherit'],
    });

  const vars = path.join(ROOT, '.dev.vars');
  if (!existsSync(vars)) {
    copyFileSync(path.join(ROOT, '.dev.vars.example'), vars);
    console.log('Created .dev.vars from .dev.vars.example (local-only demo secrets).');
  }

  wrangler(['d1', 'migrations', 'apply', 'DB', '--local']);

  const hash = createHash('sha256').update(DEMO_API_KEY).digest('hex');
  const now = new Date().toISOString();
  const sql =
    `INSERT OR IGNORE INTO api_keys (id, key_hash, key_prefix, name, policy, created_at, updated_at) ` +
    `VALUES ('${DEMO_KEY_ID}', '${hash}', '${DEMO_API_KEY.slice(0, 13)}', 'local demo key', NULL, '${now}', '${now}');`;
  // The insert's JSON result is of no interest; errors still reach stderr.
  wrangler(['d1', 'execute', 'DB', '--local', '--command', sql], 'pipe');

  console.log(
    `\nDemo API key (local only): ${DEMO_API_KEY}\nAdmin token (local only):  dev-admin-token\n`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  cli({ usage: 'npm run dev:setup', summary: SETUP_SUMMARY, options: {} });
  setup();
}
