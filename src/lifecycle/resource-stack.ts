import type { Logger } from '../logging/logger.ts';

interface Entry {
  name: string;
  close: () => Promise<void> | void;
}

/**
 * Owns the resources a process opened, in start order, and closes them in reverse order.
 * `close()` is safe to call twice; each resource is closed once, and an error in one does not
 * keep the others open.
 */
export function createResourceStack(logger: Logger) {
  const entries: Entry[] = [];
  let closing: Promise<void> | undefined;
  return {
    /** Registers a resource and returns it, so start-up reads as a list of `stack.add(...)`. */
    add<T>(name: string, resource: T, close: (r: T) => Promise<void> | void): T {
      entries.push({ name, close: () => close(resource) });
      return resource;
    },
    close(): Promise<void> {
      closing ??= (async () => {
        for (const entry of entries.reverse()) {
          try {
            await entry.close();
            logger.debug({ resource: entry.name }, 'closed');
          } catch (err) {
            logger.error({ err, resource: entry.name }, 'error while closing');
          }
        }
      })();
      return closing;
    },
  };
}

export type ResourceStack = ReturnType<typeof createResourceStack>;
