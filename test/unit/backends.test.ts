import { afterEach, expect, it, vi } from 'vitest';
import { missingBackend, underCi } from '../helpers/backends.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

it('a present backend never skips, under CI or not', () => {
  expect(missingBackend(undefined, {})).toBe(false);
  expect(missingBackend(undefined, { CI: 'true' })).toBe(false);
});

it('a missing backend skips with its reason outside CI', () => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  expect(missingBackend('no redis-server on PATH', {})).toBe(true);
  expect(missingBackend('no redis-server on PATH', { CI: 'false' })).toBe(true);
  expect(warn).toHaveBeenCalledWith('skipped: no redis-server on PATH');
});

it('a missing backend under CI=true fails instead of skipping', () => {
  expect(underCi({ CI: 'true' })).toBe(true);
  expect(underCi({ CI: '1' })).toBe(true);
  expect(() => missingBackend('no PostgreSQL for the tests', { CI: 'true' })).toThrow(
    /^CI=true and no PostgreSQL for the tests: a test needing it must run in CI, not skip/,
  );
});
