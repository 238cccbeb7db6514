// HTTP ingest service: parse config, build the logger, start the ingest app, install shutdown.
import { createIngestServer } from '../src/app/ingest-server.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { runEntrypoint } from '../src/lifecycle/run-entrypoint.ts';

await runEntrypoint('ingest', loadConfig, async (config, logger) => {
  const server = await createIngestServer(config, logger);
  return server.close;
});
