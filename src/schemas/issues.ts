/**
 * Zod issues → field errors with exact JSON pointers.
 *
 * Zod reports a failed union as one `invalid_union` issue at the union's path ("/input: Invalid
 * input") holding every branch's issues. That hides the real mistake: for a chat message with a
 * bad content part the client needs `/input/2/content/0/type: expected one of text, …`. Here
 * each union is resolved to the branch the value was evidently meant for — using the submitted
 * value itself — and that branch's issues are reported, recursively:
 * - a branch that failed only because the value is of another type, or because its
 *   discriminator key is absent, is a mismatch (the value was not meant for it);
 * - a branch that failed only because required keys are absent is weak evidence;
 * - any other branch got further into the value: the deepest such branch wins.
 * When every branch is a mismatch, one error at the union's path lists what is accepted.
 */
import type { z } from '@hono/zod-openapi';
import { issueErrors, safeSegment, type FieldError } from '../errors';

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

export function fieldErrors(issues: readonly Issue[], data: unknown): FieldError[] {
  const out: FieldError[] = [];
  // issueErrors makes paths and "Unrecognized key" messages safe (no flagged client keys).
  for (const e of issueErrors(resolveUnions(issues, data))) {
    if (!out.some((o) => o.path === e.path && o.message === e.message)) out.push(e);
  }
  return out;
}

/** The issues with every union replaced by the issues of the branch the value was meant for. */
export function resolveUnions(issues: readonly Issue[], data: unknown): Flat[] {
  return flatten(issues, [], data);
}

export interface Flat {
  path: PropertyKey[];
  message: string;
  /** Zod's issue code and (for `unrecognized_keys`) the keys, for the problem's own formatting. */
  code?: string;
  keys?: readonly string[];
  /** What made the issue: used to rank union branches. */
  kind: 'wrong-type' | 'no-discriminator' | 'missing' | 'other';
}

function flatten(issues: readonly Issue[], base: Path, data: unknown): Flat[] {
  return issues.flatMap((issue) => flattenOne(issue, base, data));
}

function flattenOne(issue: Issue, base: Path, data: unknown): Flat[] {
  const path = [...base, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const branches = issue.errors.map((b) => flatten(b, path, data));
    let best: Flat[] | undefined;
    let bestScore = 0;
    for (const b of branches) {
      const score = rank(b, path.length);
      if (score > bestScore) {
        best = b;
        bestScore = score;
      }
    }
    if (best) return best;
    return [{ path, message: expectedOf(branches), kind: 'wrong-type' }];
  }
  const here = valueAt(data, path);
  if (issue.code === 'invalid_union') {
    // A discriminated union with no matching discriminator (`errors` is empty); the message
    // is the union's own ("expected one of …", see schemas/content.ts).
    if (here !== undefined) return [{ path, message: issue.message, kind: 'other' }];
    const key = safeSegment(path[path.length - 1] ?? '');
    return [{ path, message: `${issue.message} in \`${key}\``, kind: 'no-discriminator' }];
  }
  if (issue.code === 'invalid_type') {
    if (here === undefined && path.length > 0) {
      return [{ path, message: `required (expected ${issue.expected})`, kind: 'missing' }];
    }
    return [
      { path, message: `expected ${issue.expected}, got ${typeName(here)}`, kind: 'wrong-type' },
    ];
  }
  if (issue.code === 'invalid_value') {
    const values = issue.values.map(String);
    const message =
      values.length === 1 ? `expected ${values[0]}` : `expected one of ${values.join(', ')}`;
    return [{ path, message, kind: here === undefined ? 'missing' : 'other' }];
  }
  return [
    {
      path,
      message: issue.message,
      code: issue.code,
      ...(issue.code === 'unrecognized_keys' ? { keys: issue.keys } : {}),
      kind: 'other',
    },
  ];
}

/** 0 = the value was not meant for this branch; 1 = only required keys missing; 2+ = deeper is better. */
function rank(branch: readonly Flat[], depth: number): number {
  if (branch.length === 0) return 0;
  const relevant = branch.filter(
    (f) =>
      !(f.kind === 'wrong-type' && f.path.length === depth) &&
      !(f.kind === 'no-discriminator' && f.path.length === depth + 1),
  );
  if (relevant.length === 0) return 0;
  if (relevant.every((f) => f.kind === 'missing')) return 1;
  return 2 + Math.max(...relevant.map((f) => f.path.length));
}

/** "expected string or array", "expected one of … in `role`, or one of … in `type`". */
function expectedOf(branches: readonly Flat[][]): string {
  const parts = new Set<string>();
  for (const b of branches)
    for (const f of b) parts.add(f.message.replace(/^expected /, '').replace(/, got \w+$/, ''));
  return `expected ${[...parts].join(', or ')}`;
}

function valueAt(data: unknown, path: Path): unknown {
  let v = data;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key as string];
  }
  return v;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}
