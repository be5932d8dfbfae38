import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { BASE, check, createKey } from './helpers';
import { sample, scrape, settleMetrics } from './metrics-helpers';

describe('GET /metrics', () => {
  it('counts concurrent requests exactly across flushes', async () => {
    await settleMetrics();
    const before = await scrape();
    await settleMetrics();
    const n = 40;
    const res = await Promise.all(Array.from({ length: n }, () => SELF.fetch(BASE + '/health')));
    expect(res.every((r) => r.status === 200)).toBe(true);
    await Promise.all(res.map((r) => r.text()));
    await settleMetrics();
    const after = await scrape();
    const labels = { method: 'GET', endpoint: '/health', status: '200' };
    expect(
      (sample(after, 'requests_total', labels) ?? 0) -
        (sample(before, 'requests_total', labels) ?? 0),
    ).toBe(n);
  });
});
