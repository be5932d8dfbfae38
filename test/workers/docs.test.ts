import { env, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { BASE } from './helpers';

describe('GET /docs', () => {
  it('is a page of vakt’s own origin: Swagger UI from static assets under a strict CSP', async () => {
    const res = await SELF.fetch(BASE + '/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toMatch(/^text\/html/);
    const csp = res.headers.get('Content-Security-Policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    const html = await res.text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(refs.sort()).toEqual([
      '/docs/init.js',
      '/docs/swagger-ui/swagger-ui-bundle.js',
      '/docs/swagger-ui/swagger-ui.css',
    ]);
  });

  it.each([
    ['/docs/swagger-ui/swagger-ui-bundle.js', /javascript/, 'SwaggerUIBundle'],
    ['/docs/swagger-ui/swagger-ui.css', /text\/css/, '.swagger-ui'],
    ['/docs/init.js', /javascript/, "url: '/openapi.json'"],
  ])('has %s among the Worker’s static assets', async (path, type, marker) => {
    // SELF reaches the Worker itself; the asset router in front of it is what ASSETS serves.
    // (The real router, from a browser, is test/node/docs-chromium.test.ts.)
    const res = await env.ASSETS.fetch(BASE + path);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toMatch(type);
    expect(await res.text()).toContain(marker);
  });
});
