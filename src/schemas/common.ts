/** Schemas shared by several routes: problem details and authentication. */
import { z } from '@hono/zod-openapi';

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'urn:vakt:problem:validation-error' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z
      .array(z.object({ path: z.string().openapi({ example: '/input' }), message: z.string() }))
      .optional(),
  })
  .openapi('Problem', { description: 'RFC 9457 problem details.' });

export const problemContent = { 'application/problem+json': { schema: ProblemSchema } } as const;

/** Standard problem responses, keyed by status, for route definitions. */
export function problems<S extends number>(...statuses: S[]) {
  const descriptions: Record<number, string> = {
    400: 'Malformed JSON or invalid fields (`errors` names each field).',
    401: 'Missing, unknown or revoked credentials.',
    403: 'The credentials may not act on this resource (e.g. another key’s decision).',
    404: 'No such resource.',
    409: 'The resource is in a state that forbids the change (e.g. a revoked key).',
    413: 'Body larger than MAX_BODY_BYTES.',
    415: 'Body is not `application/json`.',
    429: 'Quota exceeded; see `Retry-After`.',
    500: 'Unexpected error (reported, never detailed).',
    503: 'vakt is misconfigured or a dependency is unavailable.',
  };
  return Object.fromEntries(
    statuses.map((s) => [s, { description: descriptions[s] ?? 'Error', content: problemContent }]),
  ) as Record<S, { description: string; content: typeof problemContent }>;
}

type SecurityRequirement = Record<string, string[]>;
export const apiKeySecurity: SecurityRequirement[] = [{ ApiKeyBearer: [] }, { ApiKeyHeader: [] }];
export const adminSecurity: SecurityRequirement[] = [{ AdminBearer: [] }];
