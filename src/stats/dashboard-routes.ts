import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { HTTPStatus } from '@bull-board/api/typings/app';
import { FastifyAdapter } from '@bull-board/fastify';
import fastifyStatic from '@fastify/static';
import { ErrorCode, type ConnectionOptions, type Queue } from 'bullmq';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Config } from '../config/load-config.ts';
import { errorCodes, type ErrorCode as SfErrorCode } from '../contracts/error-codes.ts';
import { errorBody, httpErrorReply } from '../errors/http-error.ts';
import type { Logger } from '../logging/logger.ts';
import { createBulkQueue, createResultsQueue, createReviewsQueue } from '../queue/queue-setup.ts';
import { openDashboardAssets } from './dashboard-assets.ts';

/** Where bull-board is mounted. */
export const BULL_BOARD_PATH = '/admin/queues';

export interface DashboardOptions {
  /** Queues shown in bull-board (the reviews, results and bulk queues); the caller closes them. */
  queues: readonly Queue[];
  /**
   * false (default): bull-board is read-only. true: failed jobs may be retried from bull-board
   * (one job, or all failed jobs of a queue); retrying a job in any other state is refused with
   * 409 SF_ERR_JOB_STATE, every other action (clean, remove, pause, add, obliterate…) with 405
   * SF_ERR_READ_ONLY.
   */
  allowRetries?: boolean;
}

/** bull-board's routes that retry one job, and all jobs of a queue in one state. */
const RETRY_JOB_ROUTE = `PUT ${BULL_BOARD_PATH}/api/queues/:queueName/:jobId/retry`;
const RETRY_ALL_ROUTE = `PUT ${BULL_BOARD_PATH}/api/queues/:queueName/retry/:queueStatus`;

function refuse(reply: FastifyReply, code: SfErrorCode, message: string) {
  return reply.code(errorCodes[code].http).send(errorBody(code, message));
}

/**
 * Retries one job if, and only if, it is failed. bull-board's own handler retries completed
 * jobs too (its allowCompletedRetries hides the button, nothing more), so this route never
 * reaches it: BullMQ's retry from the failed set checks and moves the job in one script, so a job
 * that is not failed at that moment is never moved.
 */
async function retryFailedJob(queue: Queue | undefined, jobId: string, reply: FastifyReply) {
  const job = queue ? await queue.getJob(jobId) : undefined;
  if (!job) return refuse(reply, 'SF_ERR_NOT_FOUND', 'no such job');
  try {
    await job.retry('failed');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === ErrorCode.JobNotExist) return refuse(reply, 'SF_ERR_NOT_FOUND', 'no such job');
    if (code !== ErrorCode.JobNotInState) throw err;
    const state = await job.getState();
    return refuse(reply, 'SF_ERR_JOB_STATE', `the job is ${state}: only failed jobs can be retried`);
  }
  return reply.code(204).send();
}

/** bull-board at /admin/queues (encapsulated: its hooks and error handler stay inside). */
export const bullBoardRoutes: FastifyPluginAsync<DashboardOptions> = async (app, { queues, allowRetries = false }) => {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  const adapterOptions = allowRetries
    ? { readOnlyMode: false, allowRetries: true, allowCompletedRetries: false }
    : { readOnlyMode: true };
  const adapters = queues.map((q) => new BullMQAdapter(q, adapterOptions));
  const queueByName = new Map(adapters.map((adapter, i) => [adapter.getName(), queues[i]!]));
  createBullBoard({
    queues: adapters,
    serverAdapter,
    options: { uiConfig: { boardTitle: 'sentiment-fleet' } },
  });
  // bull-board's own error handler answers with the error's message, and its stack when
  // NODE_ENV=development: its errors get the services' answers instead (src/errors/http-error.ts:
  // a registered code; 5xx a fixed message, the error goes to the log).
  serverAdapter.setErrorHandler((error: Error & { statusCode?: number }) => {
    const answer = httpErrorReply(error);
    if (answer.internal) app.log.error({ err: error }, 'bull-board request failed');
    // bull-board's type lists the statuses it uses itself; the registry's may be others (413, 503).
    return { status: answer.status as HTTPStatus, body: answer.body };
  });
  if (allowRetries) {
    // bull-board has no "retries of failed jobs only" mode: without readOnlyMode every action is
    // enabled, so every write but these is refused here, before bull-board sees it.
    app.addHook('onRequest', async (request, reply) => {
      if (request.method === 'GET' || request.method === 'HEAD') return;
      const route = `${request.method} ${request.routeOptions.url ?? ''}`;
      const params = request.params as { queueName?: string; jobId?: string; queueStatus?: string };
      // bull-board retries the failed set job by job from that set (BullMQ's retry('failed')).
      if (route === RETRY_ALL_ROUTE && params.queueStatus === 'failed') return;
      if (route === RETRY_JOB_ROUTE)
        return retryFailedJob(queueByName.get(params.queueName ?? ''), params.jobId ?? '', reply);
      return refuse(reply, 'SF_ERR_READ_ONLY', 'bull-board is read-only here, except for retrying failed jobs');
    });
  }
  await app.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
};

/**
 * The dashboard on a fastify app that serves nothing at `/` yet: the front end (prebuilt, or built
 * into a temporary directory removed when the app closes: dashboard-assets.ts) served at `/` — it
 * polls `GET /v1/stats` and, for the product view, the storage routes — and bull-board at
 * `/admin/queues`.
 */
export async function registerDashboard(app: FastifyInstance, options: DashboardOptions): Promise<void> {
  const assets = await openDashboardAssets();
  app.addHook('onClose', assets.remove);
  // wildcard: false serves exactly the files built (no catch-all route shadowing the app's 404s);
  // decorateReply: false leaves reply.sendFile to whoever else registers @fastify/static.
  await app.register(fastifyStatic, {
    root: assets.dir,
    prefix: '/',
    wildcard: false,
    decorateReply: false,
    index: ['index.html'],
  });
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
 * `register` hook: finds or builds the assets and opens the reviews, results and bulk queues (for
 * bull-board, on `connection`), and returns them with the hook. Closed with the app, or by `close()`.
 *
 *   const dashboard = await openDashboard({ config, connection, logger, allowRetries });
 *   buildStatsApp({ ..., staticDir: dashboard.staticDir, register: dashboard.register });
 */
export async function openDashboard(options: {
  config: Config;
  connection: ConnectionOptions;
  logger: Logger;
  allowRetries?: boolean;
}): Promise<Dashboard> {
  const { config, connection, logger } = options;
  const assets = await openDashboardAssets();
  const queues = [
    createReviewsQueue(connection, config, logger),
    createResultsQueue(connection, config, logger),
    createBulkQueue(connection, config, logger),
  ];
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
