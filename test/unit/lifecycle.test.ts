import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createResourceStack } from '../../src/lifecycle/resource-stack.ts';
import { installShutdown } from '../../src/lifecycle/shutdown.ts';
import { createLogger } from '../../src/logging/logger.ts';

const logger = createLogger({ level: 'silent', format: 'json' });

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('createResourceStack', () => {
  it('closes resources in reverse start order', async () => {
    const order: string[] = [];
    const stack = createResourceStack(logger);
    for (const name of ['redis', 'queue', 'pool', 'worker']) stack.add(name, name, (r) => void order.push(r));
    await stack.close();
    expect(order).toEqual(['worker', 'pool', 'queue', 'redis']);
  });

  it('add returns the resource', () => {
    const stack = createResourceStack(logger);
    const resource = { id: 1 };
    expect(stack.add('thing', resource, () => {})).toBe(resource);
  });

  it('waits for each async close before starting the next', async () => {
    const events: string[] = [];
    const first = deferred();
    const stack = createResourceStack(logger);
    stack.add('a', 'a', () => void events.push('a'));
    stack.add('b', 'b', async () => {
      events.push('b start');
      await first.promise;
      events.push('b end');
    });
    const closing = stack.close();
    await flush();
    expect(events).toEqual(['b start']);
    first.resolve();
    await closing;
    expect(events).toEqual(['b start', 'b end', 'a']);
  });

  it('close twice closes each resource once and returns the same promise', async () => {
    const closeA = vi.fn();
    const closeB = vi.fn(async () => {});
    const stack = createResourceStack(logger);
    stack.add('a', 'a', closeA);
    stack.add('b', 'b', closeB);
    const p1 = stack.close();
    const p2 = stack.close();
    expect(p2).toBe(p1);
    await Promise.all([p1, p2]);
    await stack.close();
    expect(closeA).toHaveBeenCalledTimes(1);
    expect(closeB).toHaveBeenCalledTimes(1);
  });

  it('passes the registered resource to its close function', async () => {
    const close = vi.fn();
    const stack = createResourceStack(logger);
    const resource = { name: 'redis' };
    stack.add('redis', resource, close);
    await stack.close();
    expect(close).toHaveBeenCalledWith(resource);
  });

  it('an error in one close still closes the others, and is logged', async () => {
    const log = createLogger({ level: 'silent', format: 'json' });
    const errorSpy = vi.spyOn(log, 'error');
    const closed: string[] = [];
    const stack = createResourceStack(log);
    stack.add('a', 'a', () => void closed.push('a'));
    stack.add('b', 'b', async () => {
      throw new Error('b failed');
    });
    stack.add('c', 'c', () => {
      throw new Error('c failed synchronously');
    });
    stack.add('d', 'd', () => void closed.push('d'));
    await expect(stack.close()).resolves.toBeUndefined();
    expect(closed).toEqual(['d', 'a']);
    expect(errorSpy).toHaveBeenCalledTimes(2);
    expect(errorSpy.mock.calls.map((call) => (call[0] as { resource: string }).resource)).toEqual(['c', 'b']);
  });

  it('closing an empty stack resolves', async () => {
    await expect(createResourceStack(logger).close()).resolves.toBeUndefined();
  });
});

describe('installShutdown', () => {
  const EVENTS = ['uncaughtException', 'unhandledRejection', 'SIGUSR2'] as const;
  let before: Map<string, ((...args: never[]) => unknown)[]>;

  /** Listeners installShutdown added for `event` during this test. */
  function added(event: (typeof EVENTS)[number]): ((...args: unknown[]) => void)[] {
    const old = before.get(event) ?? [];
    return process.listeners(event as 'SIGUSR2').filter((l) => !old.includes(l)) as ((...args: unknown[]) => void)[];
  }

  beforeEach(() => {
    vi.useFakeTimers();
    before = new Map(EVENTS.map((e) => [e, [...process.listeners(e as 'SIGUSR2')]]));
  });

  afterEach(() => {
    // Remove only the listeners this test's installShutdown added.
    for (const event of EVENTS) for (const listener of added(event)) process.removeListener(event, listener);
    vi.useRealTimers();
  });

  it('shutdown() closes, then exits 0', async () => {
    const events: string[] = [];
    const exit = vi.fn((code: number) => void events.push(`exit ${code}`));
    const close = vi.fn(async () => void events.push('close'));
    const { shutdown } = installShutdown({ logger, graceMs: 1000, close, exit, signals: [] });
    await shutdown('test');
    expect(events).toEqual(['close', 'exit 0']);
    expect(vi.getTimerCount()).toBe(0); // the grace timer was cleared
  });

  it('exits with the given code', async () => {
    const exit = vi.fn();
    const { shutdown } = installShutdown({ logger, graceMs: 1000, close: async () => {}, exit, signals: [] });
    await shutdown('start-up failure', 1);
    expect(exit).toHaveBeenCalledExactlyOnceWith(1);
  });

  it('does not exit before close has finished', async () => {
    const gate = deferred();
    const exit = vi.fn();
    const { shutdown } = installShutdown({ logger, graceMs: 1000, close: () => gate.promise, exit, signals: [] });
    const done = shutdown('test');
    await vi.advanceTimersByTimeAsync(500);
    expect(exit).not.toHaveBeenCalled();
    gate.resolve();
    await done;
    expect(exit).toHaveBeenCalledExactlyOnceWith(0);
  });

  it('a close that never resolves exits 1 after graceMs, not before', async () => {
    const exit = vi.fn();
    const { shutdown } = installShutdown({
      logger,
      graceMs: 5000,
      close: () => new Promise<void>(() => {}),
      exit,
      signals: [],
    });
    void shutdown('test');
    await vi.advanceTimersByTimeAsync(4999);
    expect(exit).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(exit).toHaveBeenCalledExactlyOnceWith(1);
  });

  it('a close that rejects exits 1', async () => {
    const exit = vi.fn();
    const { shutdown } = installShutdown({
      logger,
      graceMs: 1000,
      close: async () => Promise.reject(new Error('boom')),
      exit,
      signals: [],
    });
    await shutdown('test');
    expect(exit).toHaveBeenCalledWith(1);
    expect(exit).not.toHaveBeenCalledWith(0);
  });

  // Regression: a rejected close used to leave the grace timer running (a second exit call).
  it('a close that rejects exits exactly once (the grace timer is cleared)', async () => {
    const exit = vi.fn();
    const { shutdown } = installShutdown({
      logger,
      graceMs: 1000,
      close: async () => Promise.reject(new Error('boom')),
      exit,
      signals: [],
    });
    await shutdown('test');
    await vi.advanceTimersByTimeAsync(1000);
    expect(exit).toHaveBeenCalledExactlyOnceWith(1);
  });

  it('a second shutdown does nothing', async () => {
    const exit = vi.fn();
    const close = vi.fn(async () => {});
    const { shutdown } = installShutdown({ logger, graceMs: 1000, close, exit, signals: [] });
    await Promise.all([shutdown('first'), shutdown('second')]);
    await shutdown('third');
    expect(close).toHaveBeenCalledTimes(1);
    expect(exit).toHaveBeenCalledExactlyOnceWith(0);
  });

  it('installs a listener for each requested signal that shuts down', async () => {
    const exit = vi.fn();
    const close = vi.fn(async () => {});
    installShutdown({ logger, graceMs: 1000, close, exit, signals: ['SIGUSR2'] });
    const listeners = added('SIGUSR2');
    expect(listeners).toHaveLength(1);
    listeners[0]!('SIGUSR2'); // call our listener directly: no real signal is sent
    await flush();
    expect(close).toHaveBeenCalledTimes(1);
    expect(exit).toHaveBeenCalledExactlyOnceWith(0);
  });

  it('signals: [] installs no signal listener', () => {
    installShutdown({ logger, graceMs: 1000, close: async () => {}, exit: vi.fn(), signals: [] });
    expect(added('SIGUSR2')).toHaveLength(0);
  });

  it('an uncaught exception closes and exits 1', async () => {
    const exit = vi.fn();
    const close = vi.fn(async () => {});
    installShutdown({ logger, graceMs: 1000, close, exit, signals: [] });
    const listeners = added('uncaughtException');
    expect(listeners).toHaveLength(1);
    listeners[0]!(new Error('unexpected')); // called directly: the process event is never emitted
    await flush();
    expect(close).toHaveBeenCalledTimes(1);
    expect(exit).toHaveBeenCalledExactlyOnceWith(1);
  });

  it('an unhandled rejection closes and exits 1', async () => {
    const exit = vi.fn();
    installShutdown({ logger, graceMs: 1000, close: async () => {}, exit, signals: [] });
    const listeners = added('unhandledRejection');
    expect(listeners).toHaveLength(1);
    listeners[0]!(new Error('unexpected'), Promise.resolve());
    await flush();
    expect(exit).toHaveBeenCalledExactlyOnceWith(1);
  });
});
