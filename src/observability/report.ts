/**
 * Reporting of unexpected errors: a structured log line without request data, and — with
 * SENTRY_DSN set — a Sentry event via toucan-js (./sentry.ts), scrubbed before it leaves
 * (./scrub.ts).
 *
 * Cost model: without a DSN both entry points log and return; nothing is imported, constructed
 * or scheduled. With a DSN, the Sentry SDK is loaded and a Toucan built only when a report is
 * due, and all of it runs in `ctx.waitUntil`, so neither a slow nor an unreachable Sentry can
 * delay or change a response. The scheduled task never rejects.
 */
import type { Context } from 'hono';
import { matchedRoutes } from 'hono/route';
import { getConfig } from '../config';
import type { Env } from '../env';
import type { AppEnv, WaitUntil } from '../types';
import type { SentryBreadcrumb, SentryLevel, SentrySettings } from './sentry';
import { createScrubber, type StringScrubber } from './scrub';
import { logLine } from './log';
import { currentTrace } from './request-trace';
import { countSentry } from './stats';
import { nextTurn } from '../timing';

/** Tags any report may carry. Never personal data, never a key (api_key_id is the UUID). */
export interface ReportTags {
  route?: string;
  request_id?: string;
  api_key_id?: string;
  component?: string;
  [tag: string]: string | undefined;
}

/** Optional detail for a report. Everything here is scrubbed like the rest of the event. */
export interface CaptureOptions {
  /** Defaults to `error`; e.g. `warning` for a rate limiter that failed open. */
  level?: SentryLevel;
  /** Method and URL; the query string is stripped before sending. */
  request?: { method: string; url: string };
  /** Groups events in Sentry, e.g. `POST /v1/check` or `queue vakt-audit`. */
  transaction?: string;
  extra?: Record<string, unknown>;
  breadcrumbs?: readonly SentryBreadcrumb[];
}

/**
 * Reports beyond this many from one invocation (request or batch) are counted, not sent: a
 * batch where every message fails should not become a flood of identical events.
 */
export const MAX_REPORTS_PER_INVOCATION = 10;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_TAG_LENGTH = 200; // Sentry's limit for tag values

/** An unexpected error inside an HTTP request (called from the single `onError`). */
export function reportError(c: Context<AppEnv>, err: unknown): void {
  c.var.trace?.recordError(err);
  const method = c.req.method;
  const route = routePattern(c);
  const apiKeyId = c.get('apiKey')?.id;
  captureException(
    c.env,
    executionContextOf(c),
    err,
    {
      route,
      method,
      request_id: c.get('requestId'),
      api_key_id: apiKeyId !== undefined && UUID.test(apiKeyId) ? apiKeyId : undefined,
    },
    {
      request: { method, url: c.req.url },
      transaction: route ? `${method} ${route}` : undefined,
    },
  );
}

/**
 * An error outside the request path: queue consumers, dead letters, Durable Object failures
 * surfaced to the Worker, rate-limiter fail-open/closed events. Pass the invocation's own
 * ExecutionContext (not a DurableObjectState); tags must not carry personal data — they are
 * scrubbed anyway.
 */
export function captureException(
  env: Env,
  ctx: WaitUntil,
  err: unknown,
  tags: ReportTags = {},
  options: CaptureOptions = {},
): void {
  // Tags may carry client-chosen values (an incoming X-Request-Id), so the log line is scrubbed
  // like a Sentry event. Errors are rare; the detector pass is affordable here.
  const cleaned = cleanTags(tags, createScrubber([env.ADMIN_TOKEN, env.METRICS_TOKEN]));
  const name = err instanceof Error ? err.name : typeof err;
  logLine('error', { msg: 'error', error: name, ...cleaned });

  const dsn = env.SENTRY_DSN;
  if (!dsn) return; // No DSN: nothing imported, constructed or scheduled.
  if (!admit(ctx)) {
    countSentry('suppressed');
    return;
  }
  // The request this report belongs to (if any): Sentry's trace context joins it to the logs,
  // the audit row and the exported spans.
  const trace = currentTrace();
  const task = report(env, dsn, err, cleaned, {
    ...options,
    ...(trace ? { trace: { traceId: trace.traceId, spanId: trace.spanId } } : {}),
  });
  try {
    ctx.waitUntil(task);
  } catch {
    // An unusable context must not turn a report into a second failure; the task still runs.
  }
}

async function report(
  env: Env,
  dsn: string,
  error: unknown,
  tags: Record<string, string>,
  options: CaptureOptions & { trace?: { traceId: string; spanId: string } },
): Promise<void> {
  try {
    // toucan-js processes an event in (synchronous) SyncPromises: without a later turn the whole
    // capture could run in the microtasks ahead of the response being handed to the runtime.
    await nextTurn();
    if (!isValidDsn(dsn)) {
      countSentry('abandoned');
      warnInvalidDsnOnce();
      return;
    }
    const { settings, sampleRate } = await settingsFor(env, dsn);
    if (sampleRate < 1 && Math.random() >= sampleRate) {
      countSentry('sampledOut');
      return;
    }
    const { sendToSentry } = await import('./sentry');
    await sendToSentry(settings, { error, tags, ...options });
  } catch (e) {
    countSentry('abandoned');
    logLine('error', {
      msg: 'sentry report failed',
      error: e instanceof Error ? e.name : typeof e,
    });
  }
}

async function settingsFor(
  env: Env,
  dsn: string,
): Promise<{ settings: SentrySettings; sampleRate: number }> {
  const secrets = [env.ADMIN_TOKEN, env.METRICS_TOKEN];
  try {
    const config = await getConfig(env);
    return {
      settings: { dsn, environment: config.environment, release: config.release, secrets },
      sampleRate: config.sentrySampleRate,
    };
  } catch {
    // A misconfigured deployment still reports, with the raw values.
    return {
      settings: {
        dsn,
        environment: env.ENVIRONMENT || 'production',
        release: env.RELEASE || 'unknown',
        secrets,
      },
      sampleRate: 1,
    };
  }
}

/** `http(s)://<public key>@host[:port]/[path/]<numeric project id>` — the shape toucan-js accepts. */
export function isValidDsn(dsn: string): boolean {
  try {
    const url = new URL(dsn);
    return (
      (url.protocol === 'https:' || url.protocol === 'http:') &&
      url.username !== '' &&
      /\/\d+$/.test(url.pathname)
    );
  } catch {
    return false;
  }
}

let invalidDsnWarned = false;
function warnInvalidDsnOnce(): void {
  if (invalidDsnWarned) return;
  invalidDsnWarned = true;
  // Never log the DSN itself.
  logLine('error', { msg: 'SENTRY_DSN is not a valid DSN; errors are not reported' });
}

const reportsPerInvocation = new WeakMap<object, number>();
function admit(ctx: WaitUntil): boolean {
  const n = reportsPerInvocation.get(ctx) ?? 0;
  if (n >= MAX_REPORTS_PER_INVOCATION) return false;
  reportsPerInvocation.set(ctx, n + 1);
  return true;
}

function cleanTags(tags: ReportTags, scrub: StringScrubber): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) {
    if (v !== undefined && v !== '') out[k] = scrub(v).slice(0, MAX_TAG_LENGTH);
  }
  return out;
}

/** The route pattern that matched (`/admin/keys/:id`), never the raw path. */
function routePattern(c: Context<AppEnv>): string | undefined {
  try {
    const routes = matchedRoutes(c);
    // Middleware is registered as method ALL; the last method-specific entry is the endpoint.
    for (let i = routes.length - 1; i >= 0; i--) {
      const r = routes[i];
      if (r && r.method !== 'ALL') return r.path;
    }
  } catch {
    // No match result (e.g. an error before routing); the tag is simply absent.
  }
  return undefined;
}

function executionContextOf(c: Context<AppEnv>): WaitUntil {
  try {
    return c.executionCtx;
  } catch {
    // Hono throws when the app was called without one (plain `app.request`): run detached.
    return {
      waitUntil: (p: Promise<unknown>) => {
        void p;
      },
    };
  }
}
