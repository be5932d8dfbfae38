/**
 * Scrubbing of Sentry events before they leave the Worker (toucan-js `beforeSend` and
 * `beforeBreadcrumb`). Pure functions, no Sentry import, so they are tested without workerd.
 *
 * Two layers:
 * 1. Structure: the request keeps only its method and URL path. Headers (Authorization,
 *    X-API-Key, Cookie, ...), cookies, query string, body and the user (IP) are removed outright,
 *    whatever set them.
 * 2. Text: every free-text field — exception messages, the message, breadcrumbs, extra,
 *    contexts, tags, the transaction and the URL path — goes through vakt's own detectors
 *    (`scanText` + `redact`) and then through conservative fallbacks for what must never leave
 *    even if no detector validates it: vakt API keys, bearer tokens and `key=value` credentials,
 *    configured secret values, e-mail-like strings, IPv4 addresses and long digit runs (an
 *    identity or card number with a wrong checksum is still personal data). Over-redacting an
 *    error report costs little; leaking one value is the failure this module exists to prevent.
 */
import { redact, scanText } from '../pii';

/** The parts of a Sentry event this module reads or rewrites (a subset of `@sentry/types` Event). */
export interface ScrubbableEvent {
  message?: string;
  logentry?: { message?: string; params?: unknown[] };
  exception?: { values?: ScrubbableException[] };
  breadcrumbs?: ScrubbableBreadcrumb[];
  request?: {
    method?: string;
    url?: string;
    headers?: unknown;
    cookies?: unknown;
    query_string?: unknown;
    data?: unknown;
    env?: unknown;
  };
  user?: unknown;
  server_name?: string;
  extra?: Record<string, unknown>;
  contexts?: Record<string, unknown>;
  tags?: Record<string, unknown>;
  transaction?: string;
  fingerprint?: string[];
}

interface ScrubbableException {
  type?: string;
  value?: string;
  mechanism?: { data?: Record<string, unknown> };
  stacktrace?: { frames?: ScrubbableFrame[] };
}

interface ScrubbableFrame {
  vars?: Record<string, unknown>;
  context_line?: string;
  pre_context?: string[];
  post_context?: string[];
}

export interface ScrubbableBreadcrumb {
  message?: string;
  data?: Record<string, unknown>;
}

/** Longest string scanned; anything longer is cut first so scrubbing stays cheap and bounded. */
export const MAX_SCRUBBED_STRING = 8192;
/** Nesting depth and node budget for extra/contexts/breadcrumb data; deeper values are dropped. */
const MAX_DEPTH = 8;
const MAX_NODES = 2000;
/** Secret values shorter than this are not treated as literals (they would match everywhere). */
const MIN_SECRET_LENGTH = 8;

const FILTERED = '[FILTERED]';

// `vakt_` + base64url: a full key is 43 characters; shorter runs catch truncated or display
// prefixes too.
const VAKT_KEY = /vakt_[A-Za-z0-9_-]{8,}/g;
// Credentials after an auth scheme (8+ characters, so prose such as "Basic auth" survives).
const BEARER = /\b([Bb]earer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g;
// `authorization: x`, `"x-api-key":"x"`, `password=x`, `token=x` ...: keep the name, drop the value.
const CREDENTIAL_ASSIGNMENT =
  /\b(authorization|x-api-key|api[_-]?key|cookie|set-cookie|password|passwd|secret|token|dsn)(["']?\s*[:=]\s*["']?)(?!\[)(?:(?:bearer|basic)\s+)?[^\s"',;&]+/gi;
const IPV4 = /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])/g;
// Nine or more digits, optionally split by single spaces or dashes (cards, identity numbers,
// account and phone numbers). Not inside a longer word or a dash-joined token, so UUIDs and hex
// identifiers survive.
const DIGIT_RUN = /(?<![\w-])\d(?:[ -]?\d){8,}(?![\w-])/g;

/** Header / field names whose values are dropped wherever they appear as object keys. */
const SENSITIVE_KEY =
  /^(?:authorization|proxy-authorization|x-api-key|api[_-]?key|cookie|set-cookie|password|passwd|secret|token|access[_-]?token|refresh[_-]?token|dsn|body|query_string|query|headers)$/i;

export type StringScrubber = (text: string) => string;

/**
 * A text scrubber. `secrets` are literal values (e.g. ADMIN_TOKEN) replaced wherever they occur;
 * values shorter than 8 characters are ignored.
 */
export function createScrubber(secrets: readonly (string | undefined)[] = []): StringScrubber {
  const literals = secrets.filter((s): s is string => !!s && s.length >= MIN_SECRET_LENGTH);
  return (input: string): string => {
    let text =
      input.length > MAX_SCRUBBED_STRING
        ? input.slice(0, MAX_SCRUBBED_STRING) + '…[truncated]'
        : input;
    for (const secret of literals) text = text.split(secret).join('[SECRET]');
    // Credentials first, while their shape is intact; then vakt's detectors; then fallbacks.
    text = text.replace(VAKT_KEY, '[VAKT_API_KEY]');
    text = text.replace(CREDENTIAL_ASSIGNMENT, '$1$2' + FILTERED);
    text = text.replace(BEARER, '$1 ' + FILTERED);
    text = redact(text, scanText(text));
    text = redactEmails(text);
    text = text.replace(IPV4, '[IP_ADDRESS]');
    text = text.replace(DIGIT_RUN, '[NUMBER]');
    return text;
  };
}

/**
 * Replaces e-mail-like text (`local@domain.tld`) with `[EMAIL]`, in time linear in the text: a
 * regular expression with an unbounded local part backtracks quadratically over a long run of
 * characters without an `@`. Looser than the e-mail detector on purpose (no validation).
 */
export function redactEmails(text: string): string {
  let at = text.indexOf('@');
  if (at === -1) return text;
  let out = '';
  let cursor = 0;
  while (at !== -1) {
    let start = at;
    while (start > cursor && at - start < 64 && isEmailChar(text.charCodeAt(start - 1))) start--;
    // The domain: the longest run of e-mail characters after `@` that ends in `.` + 2+ letters.
    let end = -1;
    let letters = 0;
    for (let i = at + 1; i < text.length && i - at <= 255; i++) {
      const c = text.charCodeAt(i);
      if (!isEmailChar(c)) break;
      if (isLetter(c)) {
        letters++;
        const dot = i - letters;
        if (letters >= 2 && letters <= 63 && dot > at + 1 && text.charCodeAt(dot) === 46) {
          end = i + 1;
        }
      } else {
        letters = 0;
      }
    }
    if (start < at && end !== -1) {
      out += text.slice(cursor, start) + '[EMAIL]';
      cursor = end;
      at = text.indexOf('@', end);
    } else {
      at = text.indexOf('@', at + 1);
    }
  }
  return out + text.slice(cursor);
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Not whitespace, `@`, quotes, brackets, `<>`, `,`, `;` or `:`. */
function isEmailChar(c: number): boolean {
  if (c <= 32 || c === 127) return false;
  switch (c) {
    case 64: // @
    case 34: // "
    case 39: // '
    case 60: // <
    case 62: // >
    case 40: // (
    case 41: // )
    case 91: // [
    case 93: // ]
    case 123: // {
    case 125: // }
    case 44: // ,
    case 59: // ;
    case 58: // :
      return false;
    default:
      return c !== 0x00a0 && c !== 0x2028 && c !== 0x2029;
  }
}

/**
 * Scrubs an event in place and returns it (the `beforeSend` contract). Never throws: if
 * scrubbing fails the event is dropped (null), because Sentry would otherwise report the
 * failure as an internal event that bypasses `beforeSend`.
 */
export function scrubEvent<E extends ScrubbableEvent>(event: E, scrub: StringScrubber): E | null {
  try {
    scrubEventFields(event, scrub);
    return event;
  } catch {
    return null;
  }
}

/** Scrubs a breadcrumb (the `beforeBreadcrumb` contract); null drops it. */
export function scrubBreadcrumb<B extends ScrubbableBreadcrumb>(
  crumb: B,
  scrub: StringScrubber,
): B | null {
  try {
    if (typeof crumb.message === 'string') crumb.message = scrub(crumb.message);
    if (crumb.data) crumb.data = scrubRecord(crumb.data, scrub);
    return crumb;
  } catch {
    return null;
  }
}

/** `https://host/path?query#frag` → `https://host/path` (unparseable input: cut at `?`/`#`). */
export function stripQuery(url: string): string {
  try {
    const u = new URL(url);
    return u.origin + u.pathname;
  } catch {
    return url.split(/[?#]/, 1)[0] ?? '';
  }
}

function scrubEventFields(event: ScrubbableEvent, scrub: StringScrubber): void {
  if (event.request) {
    const { method, url } = event.request;
    event.request = {};
    if (typeof method === 'string') event.request.method = method;
    if (typeof url === 'string') event.request.url = scrub(stripQuery(url));
  }
  delete event.user;
  delete event.server_name;

  if (typeof event.message === 'string') event.message = scrub(event.message);
  if (event.logentry) {
    if (typeof event.logentry.message === 'string')
      event.logentry.message = scrub(event.logentry.message);
    if (Array.isArray(event.logentry.params))
      event.logentry.params = event.logentry.params.map((p) => scrubValue(p, scrub, 1, budget()));
  }
  for (const ex of event.exception?.values ?? []) {
    if (typeof ex.value === 'string') ex.value = scrub(ex.value);
    if (ex.mechanism?.data) ex.mechanism.data = scrubRecord(ex.mechanism.data, scrub);
    for (const frame of ex.stacktrace?.frames ?? []) {
      if (frame.vars) frame.vars = scrubRecord(frame.vars, scrub);
      if (typeof frame.context_line === 'string') frame.context_line = scrub(frame.context_line);
      if (frame.pre_context) frame.pre_context = frame.pre_context.map(scrub);
      if (frame.post_context) frame.post_context = frame.post_context.map(scrub);
    }
  }
  if (event.breadcrumbs) {
    event.breadcrumbs = event.breadcrumbs
      .map((b) => scrubBreadcrumb(b, scrub))
      .filter((b): b is ScrubbableBreadcrumb => b !== null);
  }
  if (event.extra) event.extra = scrubRecord(event.extra, scrub);
  if (event.contexts) {
    // `trace` holds SDK-generated hex ids that must stay intact; every other context is ours.
    const { trace, ...rest } = event.contexts;
    event.contexts = scrubRecord(rest, scrub);
    if (trace !== undefined) event.contexts.trace = trace;
  }
  if (event.tags) event.tags = scrubRecord(event.tags, scrub);
  if (typeof event.transaction === 'string') event.transaction = scrub(event.transaction);
  if (event.fingerprint) event.fingerprint = event.fingerprint.map(scrub);
}

interface Budget {
  nodes: number;
}
const budget = (): Budget => ({ nodes: MAX_NODES });

function scrubRecord(
  record: Record<string, unknown>,
  scrub: StringScrubber,
  b: Budget = budget(),
): Record<string, unknown> {
  const value = scrubValue(record, scrub, 0, b);
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function scrubValue(value: unknown, scrub: StringScrubber, depth: number, b: Budget): unknown {
  if (--b.nodes < 0) return FILTERED;
  if (typeof value === 'string') return scrub(value);
  if (typeof value === 'number' || typeof value === 'bigint') {
    // An identity or card number may arrive as a number; integers of 9+ digits are dropped.
    const digits = String(value).replace(/\D/g, '');
    return digits.length >= 9 && /^-?\d+$/.test(String(value)) ? '[NUMBER]' : value;
  }
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return FILTERED;
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, scrub, depth + 1, b));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const key = scrub(k);
    out[key] = SENSITIVE_KEY.test(k) ? FILTERED : scrubValue(v, scrub, depth + 1, b);
  }
  return out;
}
