/**
 * The toucan-js side of error reporting. Loaded with a dynamic `import()` only when SENTRY_DSN is
 * set and a report is due, so an isolate without a DSN never evaluates the Sentry SDK.
 *
 * Every report constructs its own Toucan, bound to one invocation (request or queue batch) and
 * dropped afterwards: no Toucan is shared across requests, kept in module state or created in a
 * Durable Object. Nothing about the request is handed to toucan-js (no `request` option, no
 * `setRequestBody`): the event only carries what the caller passes, and `beforeSend` scrubs it.
 */
import { linkedErrorsIntegration, Toucan } from 'toucan-js';
import { logLine } from './log';
import { createScrubber, scrubBreadcrumb, scrubEvent, stripQuery } from './scrub';
import { countSentry } from './stats';

/** Give up on one envelope after this long; it runs in `waitUntil`, never before the response. */
export const SEND_TIMEOUT_MS = 5000;

export type SentryLevel = 'fatal' | 'error' | 'warning' | 'info';

export interface SentrySettings {
  dsn: string;
  environment: string;
  release: string;
  /** Literal secret values scrubbed wherever they appear (ADMIN_TOKEN, METRICS_TOKEN). */
  secrets: readonly (string | undefined)[];
}

export interface SentryBreadcrumb {
  category?: string;
  message?: string;
  level?: SentryLevel;
  data?: Record<string, unknown>;
}

export interface SentryReport {
  error: unknown;
  tags: Readonly<Record<string, string>>;
  level?: SentryLevel;
  /** Method and URL of the failing request; the query string is never sent. */
  request?: { method: string; url: string };
  transaction?: string;
  extra?: Record<string, unknown>;
  breadcrumbs?: readonly SentryBreadcrumb[];
  /** The W3C trace of the request the error happened in: becomes the event's trace context. */
  trace?: { traceId: string; spanId: string };
}

/** Builds one Toucan for this report, captures, and waits until the envelope is delivered or given up. */
export async function sendToSentry(settings: SentrySettings, report: SentryReport): Promise<void> {
  const scrub = createScrubber(settings.secrets);
  const toucan = new Toucan({
    dsn: settings.dsn,
    environment: settings.environment,
    release: settings.release,
    // Sampling happened before this module was loaded (see report.ts).
    sampleRate: 1,
    sendDefaultPii: false,
    sendClientReports: false,
    // Only error causes; the default RequestData integration would copy the request.
    defaultIntegrations: [linkedErrorsIntegration()],
    beforeSend: (event) => scrubEvent(event, scrub),
    beforeBreadcrumb: (crumb) => scrubBreadcrumb(crumb, scrub),
    transportOptions: { fetcher: deliver },
  });
  countSentry('constructed');

  // Without this, the SDK invents a random trace id; with it, `contexts.trace` (and the
  // envelope's trace header) carry the request's W3C trace id and vakt's span id.
  if (report.trace) toucan.setPropagationContext({ ...report.trace });
  toucan.setTags(report.tags);
  // Explicit, so the event says what it is without relying on Sentry's server-side default.
  toucan.setLevel(report.level ?? 'error');
  if (report.transaction) toucan.setTransactionName(report.transaction);
  if (report.extra) toucan.setExtras(report.extra);
  for (const crumb of report.breadcrumbs ?? []) toucan.addBreadcrumb(crumb);
  const request = report.request;
  if (request) {
    toucan.addEventProcessor((event) => {
      event.request = { method: request.method, url: stripQuery(request.url) };
      return event;
    });
  }
  toucan.captureException(report.error);
  await toucan.getClient()?.flush(SEND_TIMEOUT_MS + 1000);
}

/**
 * The transport's fetch: bounded by a timeout, counts the outcome and logs failures without
 * the DSN or the payload. A rejection is left to toucan-js, which swallows it.
 */
async function deliver(
  input: RequestInfo | URL,
  init?: RequestInit<RequestInitCfProperties>,
): Promise<Response> {
  try {
    const res = await fetch(input, { ...init, signal: AbortSignal.timeout(SEND_TIMEOUT_MS) });
    // toucan-js reads only the status and rate-limit headers; release the connection.
    await res.body?.cancel();
    if (res.ok) {
      countSentry('sent');
    } else {
      countSentry('failed');
      logFailure(`status ${res.status}`);
    }
    return res;
  } catch (err) {
    countSentry('failed');
    logFailure(err instanceof Error && err.name === 'TimeoutError' ? 'timeout' : 'network');
    throw err;
  }
}

function logFailure(reason: string): void {
  logLine('warn', { msg: 'sentry delivery failed', reason });
}
