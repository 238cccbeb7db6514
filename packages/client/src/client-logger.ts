/**
 * What the clients log with: a pino logger fits, and so does `console`. Silent by default. The
 * clients log connection trouble (warn) and what they enqueued (debug, counts only), never
 * review text.
 */
export interface ClientLogger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
}

export const silentLogger: ClientLogger = { debug() {}, warn() {} };
