/** API keys in D1. Only the SHA-256 of a key is stored; see migrations/0001_api_keys.sql. */
import { PolicyOverrideSchema, type PolicyOverride } from '../governance/policy';
import { sha256Hex } from '../hash';
import { generateApiKey, keyDisplayPrefix } from './crypto';

export interface ApiKeyRecord {
  id: string;
  name: string;
  key_prefix: string;
  policy: PolicyOverride | null;
  created_at: string;
  updated_at: string;
  revoked_at: string | null;
}

interface Row {
  id: string;
  name: string;
  key_prefix: string;
  policy: string | null;
  created_at: string;
  updated_at: string;
  revoked_at: string | null;
}

const COLUMNS = 'id, name, key_prefix, policy, created_at, updated_at, revoked_at';

function fromRow(row: Row): ApiKeyRecord {
  // Stored policies were validated on write; parse again so a hand-edited row cannot smuggle in
  // an invalid policy (it is treated as a server fault by the caller's error path).
  const policy = row.policy === null ? null : PolicyOverrideSchema.parse(JSON.parse(row.policy));
  return { ...row, policy };
}

export async function findKeyByHash(db: D1Database, hash: string): Promise<ApiKeyRecord | null> {
  const row = await db
    .prepare(`SELECT ${COLUMNS} FROM api_keys WHERE key_hash = ?`)
    .bind(hash)
    .first<Row>();
  return row ? fromRow(row) : null;
}

export async function getKey(db: D1Database, id: string): Promise<ApiKeyRecord | null> {
  const row = await db
    .prepare(`SELECT ${COLUMNS} FROM api_keys WHERE id = ?`)
    .bind(id)
    .first<Row>();
  return row ? fromRow(row) : null;
}

export async function listKeys(
  db: D1Database,
  opts: { limit: number; after?: string | undefined },
): Promise<ApiKeyRecord[]> {
  const { results } = await db
    .prepare(`SELECT ${COLUMNS} FROM api_keys WHERE id > ? ORDER BY id LIMIT ?`)
    .bind(opts.after ?? '', opts.limit)
    .all<Row>();
  return results.map(fromRow);
}

export async function createKey(
  db: D1Database,
  input: { name: string; policy: PolicyOverride | null; now: Date },
): Promise<{ record: ApiKeyRecord; key: string }> {
  const key = generateApiKey();
  const ts = input.now.toISOString();
  const record: ApiKeyRecord = {
    id: crypto.randomUUID(),
    name: input.name,
    key_prefix: keyDisplayPrefix(key),
    policy: input.policy,
    created_at: ts,
    updated_at: ts,
    revoked_at: null,
  };
  await db
    .prepare(
      `INSERT INTO api_keys (id, key_hash, key_prefix, name, policy, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      record.id,
      await sha256Hex(key),
      record.key_prefix,
      record.name,
      record.policy ? JSON.stringify(record.policy) : null,
      ts,
      ts,
    )
    .run();
  return { record, key };
}

export type PatchResult =
  | { ok: true; record: ApiKeyRecord }
  | { ok: false; reason: 'not_found' | 'revoked' | 'conflict' };

/**
 * Read-modify-write of a key: `change` gets the current record and returns the new name and/or
 * policy (it may throw, e.g. a validation problem). The write only happens if the policy is still
 * the one `change` saw (compare-and-swap on the stored text), so two concurrent PATCHes never
 * lose each other's fields; a lost race is retried on the fresh record. Revoked keys are not
 * changed.
 */
export async function patchKey(
  db: D1Database,
  id: string,
  change: (current: ApiKeyRecord) => { name?: string; policy?: PolicyOverride | null },
  now: Date,
): Promise<PatchResult> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = await db
      .prepare(`SELECT ${COLUMNS} FROM api_keys WHERE id = ?`)
      .bind(id)
      .first<Row>();
    if (!row) return { ok: false, reason: 'not_found' };
    if (row.revoked_at) return { ok: false, reason: 'revoked' };
    const next = change(fromRow(row));
    const sets: string[] = ['updated_at = ?'];
    const binds: unknown[] = [now.toISOString()];
    if (next.name !== undefined) {
      sets.push('name = ?');
      binds.push(next.name);
    }
    if (next.policy !== undefined) {
      sets.push('policy = ?');
      binds.push(next.policy === null ? null : JSON.stringify(next.policy));
    }
    const updated = await db
      .prepare(
        `UPDATE api_keys SET ${sets.join(', ')}
         WHERE id = ? AND revoked_at IS NULL AND policy IS ? RETURNING ${COLUMNS}`,
      )
      .bind(...binds, id, row.policy)
      .first<Row>();
    if (updated) return { ok: true, record: fromRow(updated) };
  }
  return { ok: false, reason: 'conflict' };
}

/** Revokes a key; idempotent (a second revoke keeps the first timestamp). */
export async function revokeKey(
  db: D1Database,
  id: string,
  now: Date,
): Promise<ApiKeyRecord | null> {
  const row = await db
    .prepare(
      `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?), updated_at = ? WHERE id = ?
       RETURNING ${COLUMNS}`,
    )
    .bind(now.toISOString(), now.toISOString(), id)
    .first<Row>();
  return row ? fromRow(row) : null;
}
