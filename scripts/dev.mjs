#!/usr/bin/env node
// `npm run dev`: the local set-up (scripts/dev-setup.mjs), then `wrangler dev` with local D1,
// Queue and Durable Objects, quiet offline (no Request.cf look-up, telemetry or update check).
import { spawn } from 'node:child_process';
import { cli, QUIET_WRANGLER_ENV, ROOT, WRANGLER_JS } from './lib/cli.mjs';
import { setup, SETUP_SUMMARY } from './dev-setup.mjs';

const { values: opts, positionals } = cli({
  usage: 'npm run dev [-- options] [-- further wrangler dev options]',
  summary:
    'Starts vakt locally with `wrangler dev`. First: ' +
    SETUP_SUMMARY +
    ' Anything after a second `--` is passed to `wrangler dev` (see `npx wrangler dev --help`).',
  options: {
    ip: { type: 'string', default: '127.0.0.1', help: 'address to listen on' },
    port: { type: 'string', default: '8787', help: 'port to listen on' },
    'skip-setup': { type: 'boolean', default: false, help: 'start without the set-up step' },
  },
  positionals: 'further `wrangler dev` options, after `--`',
});

if (!opts['skip-setup']) setup();

const child = spawn(
  process.execPath,
  [WRANGLER_JS, 'dev', '--ip', opts.ip, '--port', opts.port, ...positionals],
  { cwd: ROOT, env: { ...process.env, ...QUIET_WRANGLER_ENV }, stdio: 'inherit' },
);
// wrangler shares the terminal, so Ctrl-C reaches it directly; forward what does not.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
