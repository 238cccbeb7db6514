// The OpenAPI documents: committed = generated from the routes, valid OpenAPI 3.1 (a real
// validator, and every schema compiled as JSON Schema 2020-12), every route in them and nothing
// else, and built from the schemas the code uses (the review schema, the error registry).
import { readFile } from 'node:fs/promises';
import { Validator } from '@seriousme/openapi-schema-validator';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describedApps, OPENAPI_FILES, openApiDocuments } from '../../src/app/openapi-docs.ts';
import { defaultConfig } from '../helpers/config.ts';
import { errorCodes } from '../../src/contracts/error-codes.ts';
import { routeDoc } from '../../src/http/route-doc.ts';
import { installOpenApi, routesSeen } from '../../src/http/openapi.ts';
import {
  documentedRoutes,
  routesMissingFromDocument,
  schemaCompiler,
  type OpenApiDocument,
} from '../helpers/openapi.ts';

const services = ['ingest', 'stats'] as const;
let generated: Record<(typeof services)[number], string>;
let documents: Record<(typeof services)[number], OpenApiDocument>;

beforeAll(async () => {
  generated = await openApiDocuments();
  documents = { ingest: JSON.parse(generated.ingest), stats: JSON.parse(generated.stats) };
});

describe.each(services)('the %s service document', (service) => {
  it('is the committed one (else: npm run docs:openapi, and review the diff)', async () => {
    const committed = await readFile(OPENAPI_FILES[service], 'utf8');
    expect(committed, `${OPENAPI_FILES[service]} is out of date: run npm run docs:openapi`).toBe(generated[service]);
  });

  it('validates as OpenAPI 3.1, and each of its schemas as JSON Schema 2020-12', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(documents[service]));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');

    const { ajv, rebase } = schemaCompiler(documents[service], { strict: true });
    const schemas: object[] = [];
    JSON.stringify(documents[service].paths, (key, value) => {
      if (key === 'schema') schemas.push(value);
      return value;
    });
    expect(schemas.length).toBeGreaterThan(20);
    for (const schema of schemas) ajv.compile(rebase(schema));
  });
});

describe('routes and documents', () => {
  const apps = describedApps();
  afterAll(async () => {
    await Promise.all([apps.ingest.close(), apps.stats.close()]);
  });

  it.each(services)(
    '%s: every route is documented (but the listed exclusions), and every operation is a route',
    async (service) => {
      const app = apps[service];
      await app.ready();
      const document = app.swagger() as unknown as OpenApiDocument;
      expect(routesMissingFromDocument(app, document)).toEqual([]);
      for (const route of documentedRoutes(document)) {
        const [method, url] = route.split(' ') as [string, string];
        expect(app.hasRoute({ method: method as 'GET', url }), `${route} is documented but not served`).toBe(true);
      }
      // The exclusions here are the reference page's (bull-board and the dashboard's files: see openapi-http.test.ts).
      expect(routesSeen(app).filter((r) => !documentedRoutes(document).includes(r))).toEqual(
        expect.arrayContaining(['GET /docs', 'GET /docs/json', 'GET /docs/static/*']),
      );
    },
  );

  it('notices an undocumented route', async () => {
    const app = Fastify();
    installOpenApi(app, { title: 't', description: 'd', tags: [] });
    app.get(
      '/documented',
      routeDoc({ summary: 's', tags: [], access: 'read', responses: { 200: { description: 'ok' } } }),
      async () => 'ok',
    );
    app.get('/forgotten', async () => 'no doc');
    await app.ready();
    const document = app.swagger() as unknown as OpenApiDocument;
    expect(documentedRoutes(document)).toEqual(['GET /documented', 'GET /openapi.json']);
    expect(routesMissingFromDocument(app, document)).toEqual(['GET /forgotten']);
    await app.close();
  });
});

describe('what the documents say', () => {
  it('POST /v1/reviews: the review schema of the code (limits of the configuration), one or an array', () => {
    const config = defaultConfig({});
    const post = documents.ingest.paths['/v1/reviews']!.post as unknown as {
      requestBody: { content: { 'application/json': { schema: { anyOf: object[] } } } };
    };
    expect(post.requestBody.content['application/json'].schema.anyOf).toEqual([
      { $ref: '#/components/schemas/Review' },
      {
        type: 'array',
        minItems: 1,
        maxItems: config.http.maxReviewsPerRequest,
        items: { $ref: '#/components/schemas/Review' },
      },
    ]);
    const review = documents.ingest.components.schemas.Review as {
      required: string[];
      additionalProperties: boolean;
      properties: Record<string, Record<string, unknown>>;
    };
    expect(review.required).toEqual(['id', 'text']);
    expect(review.additionalProperties).toBe(false);
    expect(Object.keys(review.properties)).toEqual([
      'id',
      'text',
      'title',
      'productId',
      'rating',
      'locale',
      'submittedAt',
      'metadata',
      'explain',
    ]);
    expect(review.properties.text).toMatchObject({ type: 'string', maxLength: config.reviews.maxTextChars });
    // metadata's guard pipe (key count first) is documented as the record it leads to, not as `{}`.
    expect(review.properties.metadata).toMatchObject({
      type: 'object',
      additionalProperties: { anyOf: expect.any(Array) },
    });
  });

  it('errors: the registry codes by status, Retry-After with 503 and 429, WWW-Authenticate with 401', () => {
    const responses = documents.ingest.paths['/v1/reviews']!.post!.responses as Record<
      string,
      { description: string; headers?: Record<string, unknown>; content: { 'application/json': { schema: unknown } } }
    >;
    expect(Object.keys(responses)).toEqual(['202', '400', '401', '403', '413', '415', '429', '500', '503']);
    for (const status of ['400', '401', '403', '413', '415', '429', '500', '503']) {
      expect(responses[status]!.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ErrorBody' });
    }
    for (const code of ['SF_ERR_BACKPRESSURE', 'SF_ERR_REDIS', 'SF_ERR_SHUTDOWN'] as const) {
      expect(errorCodes[code].http).toBe(503);
      expect(responses['503']!.description).toContain(code);
    }
    expect(Object.keys(responses['503']!.headers!)).toEqual(['retry-after']);
    expect(Object.keys(responses['429']!.headers!)).toEqual(['retry-after']);
    expect(Object.keys(responses['401']!.headers!)).toEqual(['www-authenticate']);
    // Probes need no key; the rest (the document too) name the scope they need.
    expect(documents.ingest.paths['/healthz']!.get).toMatchObject({ security: [] });
    expect(documents.ingest.paths['/openapi.json']!.get).toMatchObject({
      security: expect.arrayContaining([{ bearerAuth: ['read'] }]),
    });
    expect(documents.ingest.paths['/v1/reviews']!.post).toMatchObject({
      security: expect.arrayContaining([{ bearerAuth: ['write'] }, { apiKeyHeader: ['write'] }]),
    });
    expect(documents.stats.paths['/v1/stats']!.get).toMatchObject({
      security: expect.arrayContaining([{ bearerAuth: ['read'] }]),
    });
  });
});
