#!/usr/bin/env node
// `npm run dev` set-up: create .dev.vars from the committed example, apply local D1 migrations,
// and seed the documented demo API key (local D1 only). Safe to run any number of times.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync } from 'node:fs';

/** The demo key from the README. It exists only in the local D1 database under .wrangler/. */
export const DEMO_API_KEY = 'vakt_demo_local_only_0000000000000000000000000';
const DEMO_KEY_ID = '00000000-0000-4000-8000-000000000001';

const env = {
  ...process.env,
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_SEND_METRICS: 'false',
};
const wrangler = (args) =>
  execFileSync('npx', ['wrangler', ...args], { stdio: ['ignore', 'inherit', 'inherit'], env });

if (!existsSync('.dev.vars')) {
  copyFileSync('.dev.vars.example', '.dev.vars');
  console.log('Created .dev.vars from .dev.vars.example (local-only demo secrets).');
}

wrangler(['d1', 'migrations', 'apply', 'DB', '--local']);

const hash = createHash('sha256').update(DEMO_API_KEY).digest('hex');
const now = new Date().toISOString();
const sql =
  `INSERT OR IGNORE INTO api_keys (id, key_hash, key_prefix, name, policy, created_at, updated_at) ` +
  `VALUES ('${DEMO_KEY_ID}', '${hash}', '${DEMO_API_KEY.slice(0, 13)}', 'local demo key', NULL, '${now}', '${now}');`;
wrangler(['d1', 'execute', 'DB', '--local', '--command', sql]);

console.log(
  `\nDemo API key (local only): ${DEMO_API_KEY}\nAdmin token (local only):  dev-admin-token\n`,
);
