import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { resolveApiKey } from '../../src/middleware/auth';
import { KeyCache } from '../../src/keys/cache';
import { sha256Hex } from '../../src/hash';
import { admin, check, createKey } from './helpers';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('/admin/keys', () => {
  it('creates a key shown once, stored only as its SHA-256', async () => {
    const res = await admin('/admin/keys', {
      method: 'POST',
      body: JSON.stringify({ name: 'billing' }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const created = (await res.json()) as {
      id: string;
      key: string;
      name: string;
      created_at: string;
      policy: unknown;
    };
    expect(created.id).toMatch(UUID);
    expect(res.headers.get('Location')).toBe(`/admin/keys/${created.id}`);
    expect(created.key).toMatch(/^vakt_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ name: 'billing', policy: null });

    const row = await env.DB.prepare('SELECT * FROM api_keys WHERE id = ?')
      .bind(created.id)
      .first<Record<string, unknown>>();
    expect(row?.key_hash).toBe(await sha256Hex(created.key));
    const columns = Object.values(row ?? {}).map(String);
    expect(columns.some((v) => v.includes(created.key))).toBe(false);

    const again = await admin(`/admin/keys/${created.id}`);
    expect(again.status).toBe(200);
    const shown = (await again.json()) as Record<string, unknown>;
    expect(shown).not.toHaveProperty('key');
    expect(shown).not.toHaveProperty('key_hash');
    expect(shown.key_prefix).toBe(created.key.slice(0, 13));
  });

  it('generates distinct keys and ids', async () => {
    const a = await createKey();
    const b = await createKey();
    expect(a.key).not.toBe(b.key);
    expect(a.id).not.toBe(b.id);
  });

  it('lists keys with cursor pagination, each exactly once', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add((await createKey({ name: `page-${i}` })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 20; guard++) {
      const res = await admin(`/admin/keys?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: { id: string }[]; next_cursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((k) => k.id));
      cursor = page.next_cursor;
      if (!cursor) break;
      // Opaque but query-safe: used verbatim in the next URL.
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    }
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of ids) expect(seen).toContain(id);
  });

  it('validates policies on write with field-level errors', async () => {
    const res = await admin('/admin/keys', {
      method: 'POST',
      body: JSON.stringify({
        name: 'bad',
        policy: { rate_limit: { limit: 0 }, detectors: { not_a_detector: 'block' }, models: [] },
      }),
    });
    expect(res.status).toBe(400);
    const p = (await res.json()) as { errors: { path: string }[] };
    const paths = p.errors.map((e) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/policy/rate_limit/limit',
        '/policy/models',
        '/policy/detectors/not_a_detector',
      ]),
    );
  });

  it('updates name and policy, and the policy applies to the next request', async () => {
    const { id, key } = await createKey();
    const body = { model: 'gpt-4', operation: 'classify', input: 'hi' };
    expect(((await (await check(key, body)).json()) as { allowed: boolean }).allowed).toBe(true);
    const res = await admin(`/admin/keys/${id}`, {
      method: 'PATCH',
      body: JSON.stringify({ name: 'renamed', policy: { operations: ['summarize'] } }),
    });
    expect(res.status).toBe(200);
    const updated = (await res.json()) as {
      name: string;
      effective_policy: { operations: string[] };
    };
    expect(updated.name).toBe('renamed');
    expect(updated.effective_policy.operations).toEqual(['summarize']);
    const after = (await (await check(key, body)).json()) as { reasons: string[] };
    expect(after.reasons).toEqual(['operation_not_allowed']);
  });

  describe('PATCH is a JSON Merge Patch (RFC 7396)', () => {
    const patch = (id: string, body: unknown, type = 'application/merge-patch+json') =>
      admin(`/admin/keys/${id}`, {
        method: 'PATCH',
        body: JSON.stringify(body),
        headers: { 'Content-Type': type },
      });
    interface Key {
      name: string;
      policy: Record<string, unknown> | null;
      effective_policy: { models: string[]; detectors: Record<string, string> };
    }

    it('changes only the policy fields the patch names', async () => {
      const { id } = await createKey({
        name: 'narrow',
        policy: { models: ['gpt-4o*'], detectors: { email: 'allow' } },
      });
      const res = await patch(id, { policy: { detectors: { phone: 'block' } } });
      expect(res.status).toBe(200);
      const key = (await res.json()) as Key;
      // The model restriction survives a detectors-only change (it used to fall back to the
      // wider default), and the detectors merge per type.
      expect(key.policy).toEqual({
        models: ['gpt-4o*'],
        detectors: { email: 'allow', phone: 'block' },
      });
      expect(key.effective_policy.models).toEqual(['gpt-4o*']);
      expect(key.name).toBe('narrow');
    });

    it('removes a field with null, and treats application/json the same way', async () => {
      const { id } = await createKey({
        name: 'k',
        policy: { models: ['gpt-4o*'], detectors: { email: 'allow', phone: 'block' } },
      });
      const res = await patch(
        id,
        { policy: { models: null, detectors: { email: null } } },
        'application/json',
      );
      expect(res.status).toBe(200);
      const key = (await res.json()) as Key;
      expect(key.policy).toEqual({ detectors: { phone: 'block' } });
      expect(key.effective_policy.models).toEqual(
        ((await (await admin('/admin/keys/' + (await createKey()).id)).json()) as Key)
          .effective_policy.models,
      );
      // Removing the last field, or the policy itself, returns the key to the default policy.
      const cleared = (await (await patch(id, { policy: { detectors: null } })).json()) as Key;
      expect(cleared.policy).toBeNull();
      const again = await createKey({ name: 'k2', policy: { models: ['claude-*'] } });
      expect(((await (await patch(again.id, { policy: null })).json()) as Key).policy).toBeNull();
    });

    it('validates the merged policy, naming fields inside the request’s policy', async () => {
      const { id } = await createKey({ name: 'k', policy: { rate_limit: { limit: 5 } } });
      const res = await patch(id, { policy: { rate_limit: { window_s: 0 }, models: [] } });
      expect(res.status).toBe(400);
      const problem = (await res.json()) as { errors: { path: string }[] };
      expect(problem.errors.map((e) => e.path).sort()).toEqual([
        '/policy/models',
        '/policy/rate_limit/window_s',
      ]);
      // Nothing was written.
      const key = (await (await admin(`/admin/keys/${id}`)).json()) as Key;
      expect(key.policy).toEqual({ rate_limit: { limit: 5 } });
    });

    it('refuses to change a revoked key with a 409 problem', async () => {
      const { id } = await createKey({ name: 'gone' });
      expect((await admin(`/admin/keys/${id}`, { method: 'DELETE' })).status).toBe(200);
      const res = await patch(id, { name: 'back' });
      expect(res.status).toBe(409);
      expect(res.headers.get('Content-Type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({ type: 'urn:vakt:problem:conflict', status: 409 });
      expect(((await (await admin(`/admin/keys/${id}`)).json()) as Key).name).toBe('gone');
    });
  });

  it('refuses unknown query parameters on the list, naming them', async () => {
    const res = await admin('/admin/keys?limit=5&model=gpt-4');
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { errors: { message: string }[] };
    expect(problem.errors.map((e) => e.message).join(' ')).toContain('"model"');
    expect((await admin('/admin/keys?limit=5')).status).toBe(200);
  });

  it('rejects an empty PATCH and unknown ids', async () => {
    const { id } = await createKey();
    expect((await admin(`/admin/keys/${id}`, { method: 'PATCH', body: '{}' })).status).toBe(400);
    const missing = '00000000-0000-4000-8000-00000000dead';
    expect((await admin(`/admin/keys/${missing}`)).status).toBe(404);
    expect((await admin(`/admin/keys/${missing}`, { method: 'DELETE' })).status).toBe(404);
    const notUuid = await admin('/admin/keys/not-a-uuid');
    expect(notUuid.status).toBe(400);
    expect(((await notUuid.json()) as { errors: { path: string }[] }).errors[0]?.path).toBe('/id');
  });

  it('revokes idempotently', async () => {
    const { id } = await createKey();
    const first = (await (await admin(`/admin/keys/${id}`, { method: 'DELETE' })).json()) as {
      revoked_at: string;
    };
    const second = (await (await admin(`/admin/keys/${id}`, { method: 'DELETE' })).json()) as {
      revoked_at: string;
    };
    expect(first.revoked_at).toBeTruthy();
    expect(second.revoked_at).toBe(first.revoked_at);
  });
});

describe('key lookup cache', () => {
  function countingDb(): { db: D1Database; reads: () => number } {
    let reads = 0;
    const db = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === 'prepare') {
          return (sql: string) => {
            reads++;
            return target.prepare(sql);
          };
        }
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    return { db, reads: () => reads };
  }

  it('serves a cached key without a D1 read', async () => {
    const { key, id } = await createKey();
    const { db, reads } = countingDb();
    const now = 1_000_000;
    expect((await resolveApiKey(db, key, 30_000, now))?.id).toBe(id);
    expect((await resolveApiKey(db, key, 30_000, now + 1000))?.id).toBe(id);
    expect(reads()).toBe(1);
    // After the TTL the key is read again (bounds revocation delay in other isolates).
    await resolveApiKey(db, key, 30_000, now + 31_000);
    expect(reads()).toBe(2);
  });

  it('does not cache a row read before a revocation in this isolate', () => {
    const cache = new KeyCache(10);
    const rec = {
      id: 'k',
      name: 'k',
      key_prefix: '',
      policy: null,
      created_at: '',
      updated_at: '',
      revoked_at: null,
    };
    const epochBeforeRead = cache.epoch; // a lookup starts its D1 read…
    cache.evictId('k'); // …an admin revokes the key meanwhile…
    cache.set('hash', rec, 30_000, 0, epochBeforeRead); // …and the stale row arrives
    expect(cache.get('hash', 1)).toBeUndefined();
    cache.set('hash', rec, 30_000, 0, cache.epoch);
    expect(cache.get('hash', 1)?.id).toBe('k');
  });

  it('is bounded and evicts the least recently used entry', () => {
    const cache = new KeyCache(2);
    const rec = (id: string) => ({
      id,
      name: id,
      key_prefix: '',
      policy: null,
      created_at: '',
      updated_at: '',
      revoked_at: null,
    });
    cache.set('a', rec('a'), 1000, 0);
    cache.set('b', rec('b'), 1000, 0);
    cache.get('a', 1);
    cache.set('c', rec('c'), 1000, 1);
    expect(cache.size).toBe(2);
    expect(cache.get('b', 2)).toBeUndefined();
    expect(cache.get('a', 2)?.id).toBe('a');
  });
});
