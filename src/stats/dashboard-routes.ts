import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import fastifyStatic from '@fastify/static';
import type { ConnectionOptions, Queue } from 'bullmq';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Config } from '../config/load-config.ts';
import type { Logger } from '../logging/logger.ts';
import { createResultsQueue, createReviewsQueue } from '../queue/queue-setup.ts';
import { buildDashboardAssets } from './dashboard-build.ts';

/** Where bull-board is mounted. */
export const BULL_BOARD_PATH = '/admin/queues';

export interface DashboardOptions {
  /** Queues shown in bull-board (the reviews and results queues); the caller closes them. */
  queues: readonly Queue[];
  /**
   * false (default): bull-board is read-only. true: failed jobs may be retried from bull-board
   * (one job, or all failed jobs of a queue); every other action (clean, remove, pause, add,
   * obliterate…) is still refused with 405.
   */
  allowRetries?: boolean;
}

/** bull-board API routes that retry jobs: the only writes allowed with `allowRetries`. */
const RETRY_ROUTES = new Set([`PUT ${BULL_BOARD_PATH}/api/queues/:queueName/:jobId/retry`, `PUT ${BULL_BOARD_PATH}/api/queues/:queueName/retry/:queueStatus`]);

/** bull-board at /admin/queues (encapsulated: its hooks and error handler stay inside). */
export const bullBoardRoutes: FastifyPluginAsync<DashboardOptions> = async (app, { queues, allowRetries = false }) => {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  const adapterOptions = allowRetries ? { readOnlyMode: false, allowRetries: true, allowCompletedRetries: false } : { readOnlyMode: true };
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, adapterOptions)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'sentiment-fleet' } },
  });
  // bull-board's own error handler answers with the error's message, and its stack when
  // NODE_ENV=development: 5xx get a generic body here (the error goes to the log).
  serverAdapter.setErrorHandler((error: Error & { statusCode?: number }) => {
    const status = error.statusCode === 400 || error.statusCode === 404 ? error.statusCode : 500;
    if (status === 500) app.log.error({ err: error }, 'bull-board request failed');
    return { status, body: { error: { code: status === 500 ? 'SF_ERR_INTERNAL' : 'SF_ERR_HTTP', message: status === 500 ? 'internal error' : error.message } } };
  });
  if (allowRetries) {
    // bull-board has no "retries only" mode: without readOnlyMode every action is enabled, so the
    // writes other than retries of failed jobs are refused here.
    app.addHook('onRequest', async (request, reply) => {
      if (request.method === 'GET' || request.method === 'HEAD') return;
      const route = `${request.method} ${request.routeOptions.url ?? ''}`;
      const { queueStatus } = request.params as { queueStatus?: string };
      if (RETRY_ROUTES.has(route) && (queueStatus === undefined || queueStatus === 'failed')) return;
      return reply.code(405).send({ error: 'Method Not Allowed', message: 'bull-board is read-only here, except for retrying failed jobs' });
    });
  }
  await app.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
};

/**
 * The dashboard on a fastify app that serves nothing at `/` yet: the front end built into a
 * temporary directory (removed when the app closes) served at `/` — it polls `GET /v1/stats`
 * and, for the product view, the storage routes — and bull-board at `/admin/queues`.
 */
export async function registerDashboard(app: FastifyInstance, options: DashboardOptions): Promise<void> {
  const assets = await buildDashboardAssets();
  app.addHook('onClose', assets.remove);
  // wildcard: false serves exactly the files built (no catch-all route shadowing the app's 404s);
  // decorateReply: false leaves reply.sendFile to whoever else registers @fastify/static.
  await app.register(fastifyStatic, { root: assets.dir, prefix: '/', wildcard: false, decorateReply: false, index: ['index.html'] });
  await app.register(bullBoardRoutes, options);
}

export interface Dashboard {
  /** The built front end, for buildStatsApp's `staticDir` (served at `/`). */
  staticDir: string;
  /** For buildStatsApp's `register`: mounts bull-board; closes the dashboard with the app. */
  register: (app: FastifyInstance) => Promise<void>;
  /** Closes the queues it opened and removes `staticDir`. Safe twice. */
  close: () => Promise<void>;
}

/**
 * For buildStatsApp / createStatsServer, which serve `staticDir` at `/` themselves and take a
 * `register` hook: builds the assets and opens the reviews and results queues (for bull-board,
 * on `connection`), and returns them with the hook. Closed with the app, or by `close()`.
 *
 *   const dashboard = await openDashboard({ config, connection, logger, allowRetries });
 *   buildStatsApp({ ..., staticDir: dashboard.staticDir, register: dashboard.register });
 */
export async function openDashboard(options: { config: Config; connection: ConnectionOptions; logger: Logger; allowRetries?: boolean }): Promise<Dashboard> {
  const { config, connection, logger } = options;
  const assets = await buildDashboardAssets();
  const queues = [createReviewsQueue(connection, config, logger), createResultsQueue(connection, config, logger)];
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await Promise.allSettled(queues.map((q) => q.close()));
      await assets.remove();
    })());
  return {
    staticDir: assets.dir,
    async register(app) {
      app.addHook('onClose', close);
      await app.register(bullBoardRoutes, { queues, allowRetries: options.allowRetries ?? false });
    },
    close,
  };
}
