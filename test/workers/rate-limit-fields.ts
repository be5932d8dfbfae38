/**
 * Reads a response's rate-limit headers strictly: `RateLimit-Policy` and `RateLimit` through the
 * `structured-headers` parser (RFC 9651 Lists; anything malformed throws), then checked against
 * draft-ietf-httpapi-ratelimit-headers-11 as vakt uses it (docs/rate-limit.md#headers-and-body):
 * every member an sf-string policy name, no name twice, only the parameters the draft defines
 * plus `vakt-binding`, integers where it asks for them, every `RateLimit` member naming a listed
 * policy, at most one binding member. The fields must also be exactly the parser's canonical
 * serialization, so stray whitespace or non-canonical numbers fail too.
 */
import { parseList, serializeList } from 'structured-headers';
import { expect } from 'vitest';

export interface PolicyItem {
  q: number;
  w: number;
  qu?: string;
}

export interface LimitItem {
  r: number;
  t: number;
  binding: boolean;
}

export interface RateLimitFields {
  /** `RateLimit-Policy` members in order, by name. */
  policies: Map<string, PolicyItem>;
  /** `RateLimit` members in order, by name. */
  limits: Map<string, LimitItem>;
  /** The name of the member marked `vakt-binding`, if any. */
  binding: string | undefined;
  legacy: { limit: number; remaining: number; reset: number };
}

const nonNegativeInt = (v: unknown, what: string): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new Error(`${what} must be a non-negative integer, got ${JSON.stringify(v)}`);
  }
  return v;
};

function members(raw: string | null, field: string) {
  if (raw === null) throw new Error(`${field} is missing`);
  const list = parseList(raw);
  expect(serializeList(list), `${field} is canonical`).toBe(raw);
  expect(list.length, `${field} is non-empty`).toBeGreaterThan(0);
  const seen = new Set<string>();
  return list.map(([value, params]) => {
    if (typeof value !== 'string') {
      throw new Error(`${field}: a policy name must be an sf-string, got ${String(value)}`);
    }
    if (seen.has(value)) throw new Error(`${field}: policy ${value} listed twice`);
    seen.add(value);
    return { name: value, params };
  });
}

export function rateLimitFields(res: Response): RateLimitFields {
  const policies = new Map<string, PolicyItem>();
  for (const { name, params } of members(res.headers.get('RateLimit-Policy'), 'RateLimit-Policy')) {
    for (const k of params.keys()) {
      if (!['q', 'w', 'qu'].includes(k)) throw new Error(`RateLimit-Policy: unexpected ${k}`);
    }
    const qu = params.get('qu');
    if (qu !== undefined && typeof qu !== 'string') throw new Error('qu must be an sf-string');
    const w = nonNegativeInt(params.get('w'), `${name} w`);
    expect(w, 'a window is at least one second').toBeGreaterThan(0);
    policies.set(name, {
      q: nonNegativeInt(params.get('q'), `${name} q`),
      w,
      ...(qu === undefined ? {} : { qu }),
    });
  }
  const limits = new Map<string, LimitItem>();
  let binding: string | undefined;
  for (const { name, params } of members(res.headers.get('RateLimit'), 'RateLimit')) {
    if (!policies.has(name)) throw new Error(`RateLimit names ${name}, not a listed policy`);
    for (const k of params.keys()) {
      if (!['r', 't', 'vakt-binding'].includes(k)) throw new Error(`RateLimit: unexpected ${k}`);
    }
    const marked = params.get('vakt-binding');
    if (marked !== undefined && marked !== true) throw new Error('vakt-binding is a bare flag');
    if (marked) {
      if (binding !== undefined) throw new Error('two binding members');
      binding = name;
    }
    limits.set(name, {
      r: nonNegativeInt(params.get('r'), `${name} r`),
      t: nonNegativeInt(params.get('t'), `${name} t`),
      binding: marked === true,
    });
  }
  const legacy = (field: string) => {
    const v = res.headers.get(field) ?? '';
    expect(v, field).toMatch(/^\d+$/);
    return Number(v);
  };
  return {
    policies,
    limits,
    binding,
    legacy: {
      limit: legacy('X-RateLimit-Limit'),
      remaining: legacy('X-RateLimit-Remaining'),
      reset: legacy('X-RateLimit-Reset'),
    },
  };
}
