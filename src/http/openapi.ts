import fastifySwagger, { type SwaggerOptions } from '@fastify/swagger';
import fastifySwaggerUi, { type FastifySwaggerUiOptions } from '@fastify/swagger-ui';
import type { FastifyPluginAsync, FastifyPluginCallback, RouteOptions } from 'fastify';
import { z } from 'zod';
import { errorCodes } from '../contracts/error-codes.ts';
import { errorBodySchema, errorsByStatus, routeDoc, type ResponseDoc, type RouteDoc } from './route-doc.ts';
import { createSchemaConverter, type JsonSchema } from './zod-json-schema.ts';
import type { AnyFastifyInstance } from './fastify-instance.ts';

/** Where the API reference page is served (swagger-ui, its own assets only: no CDN). */
export const DOCS_PATH = '/docs';
/** Where the service's OpenAPI document is served. */
export const OPENAPI_PATH = '/openapi.json';

/**
 * Routes left out of the document on purpose, by path prefix, with the reason (docs/http-api.md).
 * Every other route must carry a routeDoc: test/unit/openapi.test.ts fails otherwise.
 */
export const UNDOCUMENTED_ROUTES: readonly { prefix: string; why: string }[] = [
  {
    prefix: `${DOCS_PATH}/`,
    why: 'the API reference page: swagger-ui and its assets (its /docs/json is this document)',
  },
  {
    prefix: '/admin/queues',
    why: 'bull-board (stats service, dashboard on): a third-party admin UI and its private API, not a contract',
  },
  { prefix: '/*', why: "the dashboard's page and files (stats service, dashboard built): a page, not a contract" },
];

const seenRoutes = new WeakMap<object, string[]>();

/**
 * Every route added to `app` since installOpenApi, documented or not, as `METHOD /url` (HEAD
 * routes left out: fastify adds one per GET): what test/unit/openapi.test.ts compares the
 * document with.
 */
export function routesSeen(app: AnyFastifyInstance): string[] {
  return [...new Set(seenRoutes.get(app) ?? [])].sort();
}

export function isUndocumentedRoute(url: string): boolean {
  return url === DOCS_PATH || UNDOCUMENTED_ROUTES.some((r) => url === r.prefix || url.startsWith(r.prefix));
}

/** The version of the HTTP contract (the /v1 routes) in the documents' info. */
export const API_VERSION = '1.0.0';

export interface OpenApiOptions {
  title: string;
  description: string;
  tags: readonly { name: string; description: string }[];
}

const ERROR_BODY_REF = { $ref: '#/components/schemas/ErrorBody' } as const;
const RETRY_AFTER = {
  type: 'integer',
  minimum: 1,
  description: 'Seconds to wait before retrying (RETRY_AFTER_S for 503; the rate-limit window for 429).',
};
const WWW_AUTHENTICATE = {
  type: 'string',
  description:
    'The schemes to authenticate with: Bearer, and Basic where a browser reads the answer (the stats service, /docs, /openapi.json).',
};

function jsonContent(schema: JsonSchema) {
  return { 'application/json': { schema } };
}

/** The fastify-swagger schema of a documented route: its own answers, then its errors by status. */
export function operationSchema(doc: RouteDoc, toJson: (schema: z.ZodType, io: 'input' | 'output') => JsonSchema) {
  const response: Record<
    string,
    { description: string; headers?: Record<string, JsonSchema>; content?: Record<string, { schema: JsonSchema }> }
  > = {};
  for (const [status, own] of Object.entries(doc.responses) as [string, ResponseDoc][]) {
    const schema = own.body
      ? toJson(own.body, 'output')
      : own.text
        ? { type: 'string', description: own.text }
        : undefined;
    response[status] = {
      description: own.description,
      ...(own.headers ? { headers: { ...own.headers } } : {}),
      ...(schema ? { content: { [own.contentType ?? 'application/json']: { schema } } } : {}),
    };
  }
  for (const [status, codes] of errorsByStatus(doc)) {
    const listed = codes.map((code) => `\`${code}\`: ${errorCodes[code].summary}`).join('; ');
    const own = response[status];
    const ownSchema = own?.content?.['application/json']?.schema;
    const headers = {
      ...own?.headers,
      ...(status === 503 || status === 429 ? { 'retry-after': RETRY_AFTER } : {}),
      ...(status === 401 ? { 'www-authenticate': WWW_AUTHENTICATE } : {}),
    };
    response[status] = {
      description: own ? `${own.description}; or an error: ${listed}` : listed,
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      content: jsonContent(ownSchema ? { anyOf: [ownSchema, ERROR_BODY_REF] } : ERROR_BODY_REF),
    };
  }
  const scopeSets =
    doc.access === 'open' ? [] : doc.access === 'read-or-write' ? [['read'], ['write']] : [[doc.access]];
  return {
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [...doc.tags],
    security: scopeSets.flatMap((scopes) => [{ bearerAuth: scopes }, { apiKeyHeader: scopes }, { basicAuth: scopes }]),
    ...(doc.params ? { params: toJson(doc.params, 'input') } : {}),
    ...(doc.query ? { querystring: toJson(doc.query, 'input') } : {}),
    ...(doc.body ? { body: toJson(doc.body, 'input') } : {}),
    response: Object.fromEntries(Object.entries(response).sort(([a], [b]) => Number(a) - Number(b))),
  };
}

const openApiDoc = routeDoc({
  summary: "This service's OpenAPI 3.1 document",
  description:
    'The routes this service serves (in the repository: docs/openapi.json for the ingest API, docs/openapi-stats.json for the stats service). Browsable at /docs. With API_KEYS set, both need a key with the read scope (a browser is offered HTTP Basic: the key as the password).',
  tags: ['docs'],
  access: 'read',
  responses: {
    200: {
      description: 'The OpenAPI document',
      body: z.record(z.string(), z.unknown()).meta({ description: 'An OpenAPI 3.1 document' }),
    },
  },
});

/**
 * GET /openapi.json (this app's OpenAPI 3.1 document, built from the routeDocs of its routes) and
 * the reference page at /docs (swagger-ui from node_modules: no CDN; its online validator stays
 * off, @fastify/swagger-ui's default). Call it before adding routes: only routes added
 * afterwards are seen. Both need a read key when API_KEYS is set (src/auth/http-auth.ts).
 */
export function installOpenApi(app: AnyFastifyInstance, options: OpenApiOptions): void {
  const seen: string[] = [];
  seenRoutes.set(app, seen);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') seen.push(`${method} ${route.url}`);
  });
  const schemas = createSchemaConverter();
  // @fastify/swagger builds the document once (then caches it): every route's transform, then transformObject.
  const transform = ({ route, url }: { route: RouteOptions; url: string }) => {
    const doc = route.config?.openapi;
    // Undocumented routes are left out; test/unit/openapi.test.ts allows only UNDOCUMENTED_ROUTES.
    if (!doc) return { schema: { hide: true }, url };
    return { schema: operationSchema(doc, schemas.convert) as never, url };
  };
  // Called, not registered: fastify runs registered plugins at ready(), after the routes the app
  // adds right after this call, and @fastify/swagger sees only the routes added after its onRoute
  // hook. Its plugin function is synchronous (hooks and the `swagger` decorator on `app`) and
  // would run on the root instance anyway (fastify-plugin): here it runs at once.
  (fastifySwagger as unknown as FastifyPluginCallback<SwaggerOptions>)(
    app,
    {
      openapi: {
        openapi: '3.1.0',
        info: { title: options.title, description: options.description, version: API_VERSION },
        tags: [...options.tags, { name: 'docs', description: 'This document and the API reference page' }],
        components: {
          securitySchemes: {
            bearerAuth: {
              type: 'http',
              scheme: 'bearer',
              description:
                'An API key (API_KEYS) as `Authorization: Bearer <key>`. Its scopes: `read` for GET, `write` for anything else. Not needed when API_KEYS is unset.',
            },
            apiKeyHeader: {
              type: 'apiKey',
              in: 'header',
              name: 'X-API-Key',
              description: 'The same API key as `X-API-Key: <key>`.',
            },
            basicAuth: {
              type: 'http',
              scheme: 'basic',
              description:
                'The same API key as the Basic password (the user name is ignored): what a browser sends after its prompt.',
            },
          },
        },
      },
      transform: transform as never,
      transformObject: (documentObject: unknown) => {
        const document = (documentObject as { openapiObject: { components?: { schemas?: Record<string, unknown> } } })
          .openapiObject;
        schemas.convert(errorBodySchema, 'output');
        document.components = {
          ...document.components,
          schemas: { ...document.components?.schemas, ...schemas.components() },
        };
        schemas.reset();
        return document as never;
      },
    },
    (err?: Error) => {
      if (err) throw err;
    },
  );
  app.get(OPENAPI_PATH, openApiDoc, async (_request, reply) =>
    reply.header('cache-control', 'no-cache').send(app.swagger()),
  );
  // swagger-ui's plugin declares a dependency on a *registered* @fastify/swagger, which fastify
  // checks by name: it runs inside a plugin of ours instead (it uses `app.swagger`, inherited).
  void app.register(async (instance) =>
    (fastifySwaggerUi as unknown as FastifyPluginAsync<FastifySwaggerUiOptions>)(instance, {
      routePrefix: DOCS_PATH,
      uiConfig: { deepLinking: true, tryItOutEnabled: false },
    }),
  );
}
