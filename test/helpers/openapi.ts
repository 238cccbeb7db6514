import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { isUndocumentedRoute, routesSeen } from '../../src/http/openapi.ts';
import type { AnyFastifyInstance } from '../../src/http/fastify-instance.ts';

export type OpenApiDocument = {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      { responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, { schema: object }> }> }
    >
  >;
  components: { schemas: Record<string, object> };
};

/**
 * Ajv for a document's schemas (JSON Schema 2020-12), its components reachable from them:
 * `rebase(schema)` points their `#/components/schemas/` refs at the components.
 */
export function schemaCompiler(document: OpenApiDocument, options: { strict: boolean }) {
  const ajv = new Ajv2020({ strict: options.strict, strictTypes: false, allErrors: true });
  addFormats.default(ajv);
  const rebase = (schema: object) =>
    JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"doc#/$defs/')) as object;
  ajv.addSchema({ $id: 'doc', $defs: rebase(document.components.schemas) });
  return { ajv, rebase };
}

/** The operations of a document, as `METHOD /path/:param`. */
export function documentedRoutes(document: OpenApiDocument): string[] {
  return Object.entries(document.paths)
    .flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`),
    )
    .sort();
}

/** Registered routes that are not documented and not an exclusion of src/http/openapi.ts. */
export function routesMissingFromDocument(app: AnyFastifyInstance, document: OpenApiDocument): string[] {
  const documented = new Set(documentedRoutes(document));
  return routesSeen(app).filter(
    (route) => !documented.has(route) && !isUndocumentedRoute(route.slice(route.indexOf(' ') + 1)),
  );
}

/**
 * Checks answers against a document: `check(method, path, status, body, headers)` returns the
 * problems (none: the answer is one the document describes), with the document's schemas
 * compiled by Ajv as JSON Schema 2020-12 (OpenAPI 3.1's dialect).
 */
export function answerChecker(document: OpenApiDocument) {
  const { ajv, rebase } = schemaCompiler(document, { strict: false });
  return (
    method: string,
    path: string,
    status: number,
    body: unknown,
    headers: Record<string, unknown> = {},
  ): string[] => {
    const operation = document.paths[path]?.[method.toLowerCase()];
    if (!operation) return [`${method} ${path} is not in the document`];
    const response = operation.responses[String(status)];
    if (!response)
      return [
        `${method} ${path} does not document status ${status} (documented: ${Object.keys(operation.responses).join(', ')})`,
      ];
    const problems: string[] = [];
    for (const header of Object.keys(response.headers ?? {})) {
      if (
        header === 'retry-after' &&
        headers[header] === undefined &&
        (status === 429 || (status === 503 && (body as { error?: unknown })?.error))
      )
        problems.push(`status ${status} without Retry-After`);
    }
    const schema = response.content?.['application/json']?.schema;
    if (!schema) return problems;
    const validate = ajv.compile(rebase(schema));
    if (!validate(body))
      problems.push(...(validate.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message}`));
    return problems;
  };
}
