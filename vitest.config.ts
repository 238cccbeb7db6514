import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Integration tests start their own redis-server and worker processes and are CPU-bound on a
    // 2-core machine: two files at a time.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // One private PostgreSQL per run, started when a test first asks for one (unless
    // TEST_PG_ADMIN_URL names a server): test/helpers/postgres.ts.
    globalSetup: ['test/helpers/postgres-global-setup.ts'],
  },
});
