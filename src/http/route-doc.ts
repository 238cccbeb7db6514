import { z } from 'zod';
import { errorCodes, type ErrorCode } from '../contracts/error-codes.ts';
import type { HttpErrorBody } from '../errors/http-error.ts';

/**
 * A route's OpenAPI description, written next to the route from the zod schemas the code
 * validates with (or builds its answer from). It documents: the handler validates by itself
 * (fastify compiles nothing from it), so its all-or-nothing checks, problem lists and limits stay
 * exactly as they are. Attach it with `routeDoc`:
 *
 *   app.get('/v1/things/:id', routeDoc({ summary: 'One thing', tags: ['things'], access: 'read',
 *     params: z.object({ id: z.string() }), responses: { 200: { description: 'the thing', body: thing } },
 *     errors: ['SF_ERR_NOT_FOUND'] }), handler);
 *
 * src/http/openapi.ts turns it into the operation of GET /openapi.json.
 */
export interface RouteDoc {
  summary: string;
  description?: string;
  tags: readonly string[];
  /**
   * Who may call it when API_KEYS is set: a key with the `read` scope (GET), the `write` scope
   * (anything else), a key with either (`read-or-write`: review status), or anyone (`open`: the
   * probes). Keyed routes answer 401, 403 and 429 as src/auth/http-auth.ts does.
   */
  access: 'read' | 'write' | 'read-or-write' | 'open';
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** The route's own answers, by status (e.g. 200, 202; a 503 that is not an error body). */
  responses: Readonly<Record<number, ResponseDoc>>;
  /**
   * Registry codes (src/contracts/error-codes.ts) the route answers with, besides those every route
   * may answer (implicitErrors): 401/403/429 for keyed routes, 400 for routes with a body or a
   * query, 413/415 for routes with a body, 414 for routes with path parameters, 503
   * SF_ERR_SHUTDOWN and 500 SF_ERR_INTERNAL. Each is documented under its registry status.
   */
  errors?: readonly ErrorCode[];
}

export interface ResponseDoc {
  description: string;
  /** The answer's JSON (documented as zod's output type); none: no body is documented. */
  body?: z.ZodType;
  /** Default application/json. A non-JSON answer documents `text` instead of `body`. */
  contentType?: string;
  /** A non-JSON answer (text/plain, text/html): its description. */
  text?: string;
  headers?: Readonly<Record<string, { description: string; schema: Record<string, unknown> }>>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's OpenAPI description (routeDoc). */
    openapi?: RouteDoc;
  }
}

/** Route options carrying `doc`: `app.get(url, routeDoc({...}), handler)`. */
export function routeDoc(doc: RouteDoc): { config: { openapi: RouteDoc } } {
  return { config: { openapi: doc } };
}

/** The body of every error answer (src/errors/http-error.ts builds it; the type check below keeps them equal). */
export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().meta({
        description: 'A code of the error registry (SF_ERR_*; docs/errors.md). Branch on it, never on `message`.',
      }),
      message: z
        .string()
        .meta({ description: 'What went wrong, for a person. For 5xx, fixed per code: never internals.' }),
      problems: z
        .array(
          z.object({
            path: z
              .string()
              .meta({ description: 'Where: `text`, `[3].id`, `metadata.color`, `(root)`, or a query parameter.' }),
            message: z.string(),
          }),
        )
        .optional()
        .meta({ description: 'Every problem found (400, 413), at most 100.' }),
      problemsOmitted: z
        .number()
        .int()
        .min(1)
        .optional()
        .meta({ description: 'Problems found beyond the 100 listed.' }),
    }),
  })
  .meta({ id: 'ErrorBody' });

/** `true` only when A and B are the same type (a compile-time check that a schema matches its interface). */
export type SameType<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const errorBodyMatches: SameType<z.output<typeof errorBodySchema>, HttpErrorBody> = true;
void errorBodyMatches;

/** What every route may answer, besides its own errors. */
export function implicitErrors(doc: RouteDoc): ErrorCode[] {
  const codes: ErrorCode[] = [];
  if (doc.body || doc.query) codes.push('SF_ERR_VALIDATION');
  if (doc.body) codes.push('SF_ERR_TOO_LARGE', 'SF_ERR_UNSUPPORTED_MEDIA_TYPE');
  if (doc.params) codes.push('SF_ERR_URI_TOO_LONG');
  if (doc.access !== 'open') codes.push('SF_ERR_UNAUTHORIZED', 'SF_ERR_FORBIDDEN', 'SF_ERR_RATE_LIMIT');
  codes.push('SF_ERR_SHUTDOWN', 'SF_ERR_INTERNAL');
  return codes;
}

/** A route's error codes by the HTTP status the registry answers them with. */
export function errorsByStatus(doc: RouteDoc): Map<number, ErrorCode[]> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set([...(doc.errors ?? []), ...implicitErrors(doc)])) {
    const status = errorCodes[code].http;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return new Map([...byStatus].sort(([a], [b]) => a - b));
}

/** /healthz and /readyz (both services): alive, and ready (Redis answers). */
export const probeDocs = {
  healthz: routeDoc({
    summary: 'Liveness probe',
    tags: ['probes'],
    access: 'open',
    responses: { 200: { description: 'The process serves HTTP', body: z.object({ status: z.literal('ok') }) } },
  }),
  readyz: (what: string) =>
    routeDoc({
      summary: 'Readiness probe',
      description: what,
      tags: ['probes'],
      access: 'open',
      responses: {
        200: { description: 'Ready', body: z.object({ status: z.literal('ready') }) },
        503: { description: 'Redis does not answer', body: z.object({ status: z.literal('redis unreachable') }) },
      },
    }),
};
