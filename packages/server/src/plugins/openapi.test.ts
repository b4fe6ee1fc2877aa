import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EnsembleApp } from '../app-types.ts';
import { buildTestApp } from '../testing/test-app.ts';

interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, OperationObject>>;
  components?: { schemas?: Record<string, unknown> };
}

interface OperationObject {
  summary?: string;
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  parameters?: { name: string; in: string }[];
  responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }>;
}

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: unknown;
  $ref?: string;
}

describe('OpenAPI and Swagger UI', () => {
  let app: EnsembleApp;
  let document: OpenApiDocument;
  before(async () => {
    ({ app } = await buildTestApp());
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    document = response.json() as OpenApiDocument;
  });
  after(() => app.close());

  test('is an OpenAPI 3 document about Ensemble', () => {
    assert.match(document.openapi, /^3\./);
    assert.equal(document.info.title, 'Ensemble API');
  });

  test('lists the health routes with their response schemas', () => {
    const healthz = document.paths['/healthz']?.get;
    assert.ok(healthz);
    const schema = healthz.responses['200']?.content?.['application/json']?.schema;
    assert.ok(schema);
    const readyz = document.paths['/readyz']?.get;
    assert.ok(readyz?.responses['200'] && readyz.responses['503'], 'both readiness answers are documented');
  });

  test('lists a module route with its body schema, strictness included', () => {
    const create = document.paths['/test/items']?.post;
    assert.ok(create, 'POST /test/items is documented');
    assert.equal(create.summary, 'Create an item (test only)');
    const body = create.requestBody?.content['application/json']?.schema;
    assert.ok(body?.properties?.name && body.properties.count);
    assert.deepEqual(body.required?.sort(), ['count', 'name']);
    assert.equal(body.additionalProperties, false);
    const list = document.paths['/test/items']?.get;
    assert.ok(list?.parameters?.some((p) => p.name === 'limit' && p.in === 'query'));
  });

  test('schemas with an id become components', () => {
    const schemas = Object.keys(document.components?.schemas ?? {});
    assert.ok(
      schemas.some((name) => name.startsWith('ErrorBody')),
      `components: ${schemas.join(', ')}`,
    );
    assert.ok(schemas.some((name) => name.startsWith('Readiness')));
  });

  test('hidden routes, the document itself and the UI stay out', () => {
    const paths = Object.keys(document.paths);
    assert.ok(!paths.includes('/test/hidden'));
    assert.ok(!paths.includes('/openapi.json'));
    assert.ok(!paths.some((path) => path.startsWith('/docs')), paths.join(', '));
  });

  test('the UI page loads and points at the document', async () => {
    const response = await app.inject({ method: 'GET', url: '/docs' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    assert.match(response.body, /<title>Swagger UI<\/title>/);
    assert.match(response.body, /swagger-ui-bundle\.js/);
    const initializer = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    assert.equal(initializer.statusCode, 200);
    assert.match(initializer.body, /json/);
    const json = await app.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(json.statusCode, 200);
    assert.deepEqual(Object.keys((json.json() as OpenApiDocument).paths).sort(), Object.keys(document.paths).sort());
  });

  test('the UI static assets load', async () => {
    for (const [asset, type] of [
      ['swagger-ui-bundle.js', /javascript/],
      ['swagger-ui-standalone-preset.js', /javascript/],
      ['swagger-ui.css', /text\/css/],
      ['index.css', /text\/css/],
      ['favicon-32x32.png', /image\/png/],
    ] as const) {
      const response = await app.inject({ method: 'GET', url: `/docs/static/${asset}` });
      assert.equal(response.statusCode, 200, asset);
      assert.match(String(response.headers['content-type']), type, asset);
      assert.ok(response.rawPayload.length > 100, `${asset} has content`);
    }
  });

  test('a missing UI asset is an ordinary 404', async () => {
    const response = await app.inject({ method: 'GET', url: '/docs/static/nope.js' });
    assert.equal(response.statusCode, 404);
    assert.equal((response.json() as { error: { code: string } }).error.code, 'route_not_found');
  });
});
