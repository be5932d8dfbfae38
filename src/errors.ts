/**
 * The one error path. Client-facing failures are `ProblemError`s (RFC 9457 problem details), the
 * only place a problem body is built; `sendProblem` sends one through the request context
 * (`app.onError` and `app.notFound` use it too, and map everything else to a generic 500 that never
 * shows internals). `problemResponse` serves the rare problem thrown outside that path.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isCleanIdentifier, scrubIdentifier } from './pii/identifier';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Problem `type` URIs end in these slugs; clients match on the slug. */
export const PROBLEM_TYPES = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  409: 'conflict',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  429: 'quota-exceeded',
  500: 'internal-error',
  503: 'service-unavailable',
} as const;

export const VALIDATION_PROBLEM = 'validation-error';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problemTypeUri(slug: string): string {
  return `urn:vakt:problem:${slug}`;
}

export interface FieldError {
  /** JSON-pointer-like path to the offending field, e.g. `/input/0/role`. */
  path: string;
  message: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export interface ProblemInit {
  slug?: string;
  title?: string;
  detail: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
  /** Extension members (RFC 9457 §3.2). */
  extensions?: Record<string, unknown>;
}

/** A problem body and its headers: what `sendProblem` sends. */
export interface Problem {
  readonly problem: ProblemBody;
  readonly headers: Record<string, string>;
}

/**
 * A problem without an exception, for a handler that answers it directly on a hot path (the
 * 429 of /v1/check): no stack trace is captured and nothing unwinds through the middleware.
 */
export function problem(status: ContentfulStatusCode, init: ProblemInit): Problem {
  const slug = init.slug ?? PROBLEM_TYPES[status as keyof typeof PROBLEM_TYPES] ?? 'error';
  return {
    problem: {
      type: problemTypeUri(slug),
      title: init.title ?? TITLES[status] ?? 'Error',
      status,
      detail: init.detail,
      ...(init.errors ? { errors: init.errors } : {}),
      ...init.extensions,
    },
    headers: init.headers ?? {},
  };
}

export class ProblemError extends HTTPException implements Problem {
  readonly problem: ProblemBody;
  readonly headers: Record<string, string>;

  constructor(status: ContentfulStatusCode, init: ProblemInit) {
    super(status, { message: init.detail });
    ({ problem: this.problem, headers: this.headers } = problem(status, init));
  }

  override getResponse(): Response {
    return problemResponse(this.problem, this.headers);
  }
}

/**
 * Sends a problem through the request context, so headers set by middleware (request id,
 * security headers) are kept on error responses too.
 */
export function sendProblem(c: Context, err: Problem): Response {
  return c.body(JSON.stringify(err.problem), err.problem.status as ContentfulStatusCode, {
    ...err.headers,
    'Content-Type': PROBLEM_CONTENT_TYPE,
  });
}

export function problemResponse(
  problem: ProblemBody,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: { 'Content-Type': PROBLEM_CONTENT_TYPE, ...headers },
  });
}

export function validationError(errors: FieldError[], detail?: string): ProblemError {
  return new ProblemError(400, {
    slug: VALIDATION_PROBLEM,
    title: 'Invalid request',
    detail:
      detail ?? `The request has ${errors.length} invalid field${errors.length === 1 ? '' : 's'}.`,
    errors,
  });
}

/** The malformed-JSON problem (never quotes the body: parser messages contain excerpts of it). */
export function malformedJson(): ProblemError {
  return new ProblemError(400, { detail: 'The request body is not valid JSON.' });
}

/** Most path segments shown (a deeply nested body's pointer is cut, ending in `/…`). */
const MAX_SEGMENTS = 32;
/** Longest path segment shown; longer client keys are cut (they can only be errors anyway). */
const MAX_SEGMENT = 64;

/**
 * A path segment as problems show it. String segments can be the client's own object keys (an
 * unknown field, a metadata key), so one that is not well-formed or that vakt's identifier rules
 * flag (personal data, a secret, a run of ≥ 9 digits) is scrubbed: `kari@example.no` →
 * `[EMAIL]`, `01010012356` → `[NO_FODSELSNUMMER]`. The field is still named, never echoed.
 */
export function safeSegment(p: PropertyKey): string {
  if (typeof p === 'number') return String(p);
  let s = typeof p === 'symbol' ? (p.description ?? '') : p;
  if (!s.isWellFormed() || !isCleanIdentifier(s)) s = scrubIdentifier(s.toWellFormed());
  return s.length > MAX_SEGMENT ? s.slice(0, MAX_SEGMENT) + '…' : s;
}

/**
 * Converts a Zod-style issue path to a JSON pointer (`["input", 0, "role"]` → `/input/0/role`),
 * each segment made safe by {@link safeSegment}, at most {@link MAX_SEGMENTS} segments.
 */
export function toPointer(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '/';
  const shown = path.length > MAX_SEGMENTS ? path.slice(0, MAX_SEGMENTS) : path;
  const pointer = shown
    .map((p) => '/' + safeSegment(p).replace(/~/g, '~0').replace(/\//g, '~1'))
    .join('');
  return shown === path ? pointer : pointer + '/…';
}

/** The fields of a Zod issue that problems use (structural, so any Zod issue fits). */
export interface IssueLike {
  code?: string;
  path: readonly PropertyKey[];
  message: string;
  keys?: readonly string[];
}

/**
 * Field errors from Zod issues, for every problem that reports them. Paths go through
 * {@link toPointer}; of Zod's messages only "Unrecognized key(s)" quotes client data (the keys),
 * so it is rebuilt from the safe form of each key. Every other Zod message describes the schema,
 * not the input (test/workers/errors.test.ts drives each issue kind with planted personal data).
 */
export function issueErrors(
  issues: readonly IssueLike[],
  prefix: readonly PropertyKey[] = [],
): FieldError[] {
  return issues.map((i) => ({
    path: toPointer([...prefix, ...i.path]),
    message:
      i.code === 'unrecognized_keys' && i.keys
        ? `Unrecognized key${i.keys.length === 1 ? '' : 's'}: ${i.keys.map((k) => JSON.stringify(safeSegment(k))).join(', ')}`
        : i.message,
  }));
}
