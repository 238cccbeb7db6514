import { loadConfig, type Config } from '../../src/config/load-config.ts';

/** Config with every default, overridden per test (the product reads the environment once, in loadConfig). */
export function defaultConfig(overrides: Record<string, string | undefined> = {}): Config {
  return loadConfig(overrides);
}
