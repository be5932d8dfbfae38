/**
 * The one argument parser every script uses: options declared once (type, default, one line of
 * help), `--help` generated from the same table, and a bad option answered with the usage and
 * exit code 2 instead of a stack trace.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** The repository root (scripts/lib/ → ../..). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Environment for every wrangler child process: no network look-ups that fail offline
 * (`Request.cf`, telemetry, update checks — the banner runs the update check), so local runs
 * print no `getaddrinfo ENOTFOUND` stack traces and no upgrade notices for a version pinned on
 * purpose (docs/toolchain: wrangler 4.86.0 is the newest that runs on Node 20).
 */
export const QUIET_WRANGLER_ENV = {
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_HIDE_BANNER: 'true',
};

/** wrangler's CLI entry, run with this Node (no shell, works the same on every platform). */
export const WRANGLER_JS = path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js');

/**
 * Parses `process.argv` for a script.
 *
 * @param {object} spec
 * @param {string} spec.usage   e.g. `npm run bench [-- options]`
 * @param {string} spec.summary one paragraph: what the script does and what it writes
 * @param {Record<string, {type: 'string'|'number'|'boolean', default?: unknown, help: string, short?: string, min?: number}>} spec.options
 * @param {string} [spec.positionals] help text for positional arguments; without it none are accepted
 * @returns {{ values: Record<string, any>, positionals: string[] }}
 */
export function cli(spec) {
  const options = { help: { type: 'boolean', short: 'h', help: 'show this help and exit' } };
  Object.assign(options, spec.options);
  const parseOptions = Object.fromEntries(
    Object.entries(options).map(([name, o]) => [
      name,
      {
        type: o.type === 'boolean' ? 'boolean' : 'string',
        ...(o.short ? { short: o.short } : {}),
      },
    ]),
  );
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      options: parseOptions,
      allowPositionals: Boolean(spec.positionals),
      strict: true,
    });
  } catch (err) {
    fail(spec, options, err instanceof Error ? err.message : String(err));
  }
  if (parsed.values.help) {
    process.stdout.write(usage(spec, options));
    process.exit(0);
  }
  const values = {};
  for (const [name, o] of Object.entries(options)) {
    if (name === 'help') continue;
    const raw = parsed.values[name];
    if (raw === undefined) {
      values[name] = o.default;
    } else if (o.type === 'number') {
      const n = Number(raw);
      const min = o.min ?? 1;
      if (!Number.isFinite(n) || n < min)
        fail(spec, options, `--${name} must be a number ≥ ${min}`);
      values[name] = n;
    } else {
      values[name] = raw;
    }
  }
  return { values, positionals: parsed.positionals };
}

function usage(spec, options) {
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'boolean' ? '' : ` <${o.type}>`}`;
    const def = o.default === undefined || o.default === false ? '' : ` (default: ${o.default})`;
    return `  ${flag.padEnd(28)} ${o.help}${def}`;
  });
  return [
    `Usage: ${spec.usage}`,
    '',
    wrap(spec.summary, 96),
    '',
    ...(spec.positionals ? [`Arguments: ${spec.positionals}`, ''] : []),
    'Options:',
    ...rows,
    '',
  ].join('\n');
}

function wrap(text, width) {
  const lines = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].join('\n');
}

function fail(spec, options, message) {
  process.stderr.write(`${message}\n\n${usage(spec, options)}`);
  process.exit(2);
}
