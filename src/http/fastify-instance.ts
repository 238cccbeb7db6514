import type { FastifyInstance } from 'fastify';

/**
 * Any fastify app, whatever its server, logger and type provider: what the install* helpers of
 * src/http take, since each service builds its app with its own logger and route types. `unknown`
 * cannot stand in: fastify's generic parameters are invariant.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFastifyInstance = FastifyInstance<any, any, any, any>;
