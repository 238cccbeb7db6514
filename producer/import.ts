// Bulk import of a JSONL or CSV file of reviews: parse argv, then the shared import command
// (config, logger, Redis, producer, progress and summary all live in src/app/import-command.ts).
import { Command } from 'commander';
import { defineImportCommand } from '../src/app/import-command.ts';

await defineImportCommand(new Command('import'), process.env).parseAsync();
