import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { BASE, check, createKey } from './helpers';

describe('smoke', () => {
  it('answers /health', async () => {
    const res = await SELF.fetch(BASE + '/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', service: 'vakt' });
  });

  it('allows a clean check and blocks a fødselsnummer', async () => {
    const { key } = await createKey();
    const ok = await check(key, { model: 'gpt-4', operation: 'classify', input: 'hello' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ allowed: true, reasons: [] });
    const blocked = await check(key, {
      model: 'gpt-4',
      operation: 'classify',
      input: 'fnr 01010012356',
    });
    expect(await blocked.json()).toMatchObject({
      allowed: false,
      reasons: ['contains_personal_data'],
    });
  });
});
