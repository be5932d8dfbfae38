/**
 * The one error path. Client-facing failures are `ProblemError`s (RFC 9457 problem details);
 * `problemResponse` is the only place that turns a problem into an HTTP response, and
 * `app.onError` maps everything else to a generic 500 that never shows internals.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Problem `type` URIs end in these slugs; clients match on the slug. */
export const PROBLEM_TYPES = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
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

export class ProblemError extends HTTPException {
  readonly problem: ProblemBody;
  readonly headers: Record<string, string>;

  constructor(status: ContentfulStatusCode, init: ProblemInit) {
    super(status, { message: init.detail });
    const slug = init.slug ?? PROBLEM_TYPES[status as keyof typeof PROBLEM_TYPES] ?? 'error';
    this.problem = {
      type: problemTypeUri(slug),
      title: init.title ?? TITLES[status] ?? 'Error',
      status,
      detail: init.detail,
      ...(init.errors ? { errors: init.errors } : {}),
      ...init.extensions,
    };
    this.headers = init.headers ?? {};
  }

  override getResponse(): Response {
    return problemResponse(this.problem, this.headers);
  }
}

/**
 * Sends a problem through the request context, so headers set by middleware (request id,
 * security headers) are kept on error responses too.
 */
export function sendProblem(
  c: Context,
  problem: ProblemBody,
  headers: Record<string, string> = {},
): Response {
  return c.body(JSON.stringify(problem), problem.status as ContentfulStatusCode, {
    ...headers,
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

/** Converts a Zod-style issue path to a JSON pointer (`["input", 0, "role"]` → `/input/0/role`). */
export function toPointer(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '/';
  return path.map((p) => '/' + String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}
