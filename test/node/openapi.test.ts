import { validate } from '@readme/openapi-parser';
import Ajv2020 from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';

async function fetchDocument(): Promise<Record<string, unknown>> {
  const res = await app.request('/openapi.json', {}, { ENVIRONMENT: 'test' } as never);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const doc = await fetchDocument();
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, JSON.stringify(result)).toBe(true);
  });

  it('lists every route with its methods', async () => {
    const doc = (await fetchDocument()) as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /v1/check',
        'GET /health',
        'GET /openapi.json',
        'GET /docs',
        'POST /admin/keys',
        'GET /admin/keys',
        'GET /admin/keys/{id}',
        'PATCH /admin/keys/{id}',
        'DELETE /admin/keys/{id}',
        'GET /admin/keys/{id}/usage',
        'POST /admin/metrics/delete-series',
      ]),
    );
  });

  it('documents problem+json error responses on /v1/check', async () => {
    const doc = (await fetchDocument()) as {
      paths: Record<string, Record<string, { responses: Record<string, { content?: object }> }>>;
    };
    const responses = doc.paths['/v1/check']?.post?.responses ?? {};
    for (const status of ['400', '401', '413', '415', '429']) {
      expect(Object.keys(responses[status]?.content ?? {})).toEqual(['application/problem+json']);
    }
  });
});

describe('governance API v2 shapes in the document', () => {
  const SHAPES = [
    'CheckInput',
    'CheckOutput',
    'Message',
    'ContentPart',
    'ResponsesItem',
    'Choice',
    'OutputBlock',
    'Finding',
    'MonitorResult',
    'CheckResponse',
    'OutputPolicy',
  ];

  it.each(SHAPES)('%s has an example that validates against its own schema', async (name) => {
    const doc = (await fetchDocument()) as {
      components: { schemas: Record<string, { example?: unknown }> };
    };
    const schema = doc.components.schemas[name];
    expect(schema, name).toBeDefined();
    expect(schema!.example, `${name} example`).toBeDefined();
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema({ $id: 'vakt', components: doc.components });
    const valid = ajv.validate({ $ref: `vakt#/components/schemas/${name}` }, schema!.example);
    expect(valid, JSON.stringify(ajv.errors)).toBe(true);
  });

  it('documents input, output and input_decision_id on the request', async () => {
    const doc = (await fetchDocument()) as {
      components: { schemas: { CheckRequest: { properties: Record<string, unknown> } } };
    };
    expect(Object.keys(doc.components.schemas.CheckRequest.properties)).toEqual(
      expect.arrayContaining(['input', 'output', 'input_decision_id']),
    );
  });
});
