/** Helpers shared by the workers tests: admin calls and key creation through the real API. */
import { SELF } from 'cloudflare:test';

export const ADMIN_TOKEN = 'test-admin-token';
export const BASE = 'https://vakt.test';

export function admin(path: string, init: RequestInit = {}): Promise<Response> {
  return SELF.fetch(BASE + path, {
    ...init,
    headers: {
      Authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(init.body ? { 'Content-Type': 'application/json' } : {}),
      ...init.headers,
    },
  });
}

export interface CreatedKey {
  id: string;
  key: string;
  name: string;
  policy: unknown;
  policy_version: string;
}

export async function createKey(
  body: Record<string, unknown> = { name: 'test' },
): Promise<CreatedKey> {
  const res = await admin('/admin/keys', { method: 'POST', body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`createKey: ${res.status} ${await res.text()}`);
  return res.json();
}

export function check(
  key: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return SELF.fetch(BASE + '/v1/check', {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
