import { setImmediate as nextTurn } from 'node:timers';
import type { Readable } from 'node:stream';
import { errorCodes as fastifyErrors, type FastifyRequest } from 'fastify';
import { SfError } from '../errors/sf-error.ts';
import { JsonGuard, JsonGuardError, type JsonLimits } from './json-guard.ts';
import type { AnyFastifyInstance } from './fastify-instance.ts';

export interface JsonBodyOptions {
  limits: JsonLimits;
  /** The 413 message for a body over the route's bodyLimit (name the setting). */
  bodyTooLarge?: (limit: number) => string;
  /** The message for a body refused by the guard (name the setting); default: the guard's. */
  describe?: (err: JsonGuardError) => string;
  /** Longest stretch of event-loop time one body's parsing takes before yielding (default 5 ms). */
  sliceMs?: number;
}

/** Characters scanned between two looks at the clock. */
const SLICE_CHARS = 64 * 1024;

/**
 * When the current turn of the event loop started parsing bodies (-1: not yet). Every body
 * being read shares it: the socket can hand over many chunks, of several requests, in one turn,
 * and together they get sliceMs before the rest waits for the next turn.
 */
let turnStarted = -1;

function spentThisTurn(): number {
  const now = performance.now();
  if (turnStarted < 0) {
    turnStarted = now;
    nextTurn(() => (turnStarted = -1));
  }
  return now - turnStarted;
}

function refused(err: JsonGuardError, message: string): SfError {
  const code = err.kind === 'items' || err.kind === 'itemSize' ? 'SF_ERR_TOO_LARGE' : 'SF_ERR_VALIDATION';
  return new SfError(code, message, { details: { problems: [{ path: err.path, message }], limit: err.kind } });
}

/**
 * The only body parser of an app: application/json, read as it streams in and checked by a
 * JsonGuard chunk by chunk (src/http/json-guard.ts). A body is refused as soon as it crosses a
 * limit, before anything is built from it: over the route's bodyLimit (declared or received:
 * 413 SF_ERR_TOO_LARGE), invalid UTF-8 (400, not read with U+FFFD in its place), too deep, too
 * many keys or values (400 SF_ERR_VALIDATION), too many or too large root-array elements (413).
 * Other content types get 415. Work on one body yields to the event loop every `sliceMs`, so a
 * large body delays other requests by at most that (plus one element's JSON.parse).
 */
export function installJsonBodyParser(app: AnyFastifyInstance, options: JsonBodyOptions): void {
  const sliceMs = options.sliceMs ?? 5;
  const bodyTooLarge =
    options.bodyTooLarge ?? ((limit: number) => `the request body is over the limit of ${limit} bytes`);
  const describe = options.describe ?? ((err: JsonGuardError) => `${err.path}: ${err.message}`);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', (request: FastifyRequest, payload: Readable) =>
    readJson(request, payload, { limits: options.limits, sliceMs, bodyTooLarge, describe }),
  );
}

interface ReadOptions {
  limits: JsonLimits;
  sliceMs: number;
  bodyTooLarge: (limit: number) => string;
  describe: (err: JsonGuardError) => string;
}

function readJson(request: FastifyRequest, payload: Readable, options: ReadOptions): Promise<unknown> {
  const limit = request.routeOptions.bodyLimit ?? 1024 * 1024;
  const declared = Number(request.headers['content-length']);
  const tooLarge = () =>
    new SfError('SF_ERR_TOO_LARGE', options.bodyTooLarge(limit), { details: { limit: 'body', bytes: limit } });
  if (declared > limit) return Promise.reject(tooLarge());

  return new Promise((resolve, reject) => {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const guard = new JsonGuard(options.limits);
    let received = 0;
    let pending: string | undefined;
    let offset = 0;
    let ended = false;
    let settled = false;

    const stop = () => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onError);
    };
    // A refused body within the limit is read to its end (discarded, not scanned) before the
    // answer: a client still sending would otherwise get a reset instead of the 400 or 413. Over
    // the limit, the answer goes at once (and closes the connection, as after every refusal).
    const fail = (err: unknown, drain = true) => {
      if (settled) return;
      settled = true;
      stop();
      const error = err instanceof JsonGuardError ? refused(err, options.describe(err)) : err;
      if (!drain || ended) {
        payload.resume();
        reject(error);
        return;
      }
      const done = () => {
        payload.removeListener('data', discard);
        payload.removeListener('end', done);
        payload.removeListener('error', done);
        payload.resume();
        reject(error);
      };
      function discard(chunk: Buffer | string) {
        received += chunk.length;
        if (received > limit) done();
      }
      payload.on('data', discard);
      payload.on('end', done);
      payload.on('error', done);
      payload.resume();
    };
    const decode = (chunk?: Buffer): string | undefined => {
      try {
        return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
      } catch {
        const message = 'the body is not valid UTF-8';
        fail(new SfError('SF_ERR_VALIDATION', message, { details: { problems: [{ path: '(root)', message }] } }));
        return undefined;
      }
    };
    const finish = () => {
      const rest = decode();
      if (rest === undefined) return;
      try {
        if (rest !== '') guard.write(rest);
        if (!Number.isNaN(declared) && received !== declared)
          throw new fastifyErrors.FST_ERR_CTP_INVALID_CONTENT_LENGTH();
        const value = guard.end();
        settled = true;
        stop();
        resolve(value);
      } catch (err) {
        fail(err);
      }
    };
    // Scans what was received in slices of SLICE_CHARS while this turn of the event loop has
    // budget left, else in the next turn; the stream stays paused meanwhile, so a body never
    // buffers more than a socket read ahead.
    const pump = () => {
      if (settled) return;
      try {
        while (pending !== undefined) {
          if (spentThisTurn() > options.sliceMs) {
            nextTurn(pump);
            return;
          }
          const end = Math.min(pending.length, offset + SLICE_CHARS);
          guard.write(offset === 0 && end === pending.length ? pending : pending.slice(offset, end));
          offset = end;
          if (offset >= pending.length) pending = undefined;
        }
      } catch (err) {
        fail(err);
        return;
      }
      if (ended) finish();
      else if (spentThisTurn() > options.sliceMs) nextTurn(() => payload.resume());
      else payload.resume();
    };
    function onData(chunk: Buffer | string) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      received += bytes.length;
      if (received > limit) return fail(tooLarge(), false);
      const text = decode(bytes);
      if (text === undefined || text === '') return;
      pending = text;
      offset = 0;
      payload.pause();
      pump();
    }
    function onEnd() {
      ended = true;
      if (pending === undefined) finish();
    }
    function onError(err: Error) {
      const status = (err as { statusCode?: number }).statusCode;
      fail(Object.assign(err, { statusCode: typeof status === 'number' && status >= 400 ? status : 400 }), false);
    }
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
    payload.resume();
  });
}
