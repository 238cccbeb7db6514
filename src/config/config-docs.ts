import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { settings, type SettingName } from './config-schema.ts';

/** The page whose configuration table is generated from the schema (`npm run docs:config`). */
export const CONFIG_DOC = 'docs/configuration.md';

/** The default of a setting as the table shows it. */
function defaultOf(name: SettingName): string {
  const schema = settings[name].schema as z.ZodType;
  const parsed = schema.safeParse(undefined);
  if (parsed.success && parsed.data !== undefined) return `\`${String(parsed.data)}\``;
  return '—';
}

/** The configuration table, generated from the schema so the two cannot drift. */
export function renderConfigTable(): string {
  const rows = (Object.keys(settings) as SettingName[]).map(
    (name) => `| \`${name}\` | ${defaultOf(name)} | ${settings[name].doc} |`,
  );
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

const TABLE = /<!-- config-table:start -->\n([\s\S]*?)\n?<!-- config-table:end -->/;

/** The table currently in a Markdown page, or undefined. */
export function configTableIn(markdown: string): string | undefined {
  return TABLE.exec(markdown)?.[1];
}

/** Rewrites the configuration table of a Markdown page from the schema (`npm run docs:config`). */
export function updateConfigTable(file: string): void {
  const page = readFileSync(file, 'utf8');
  if (configTableIn(page) === undefined)
    throw new Error(`${file} has no <!-- config-table:start --> … <!-- config-table:end --> block`);
  writeFileSync(
    file,
    page.replace(TABLE, `<!-- config-table:start -->\n${renderConfigTable()}\n<!-- config-table:end -->`),
  );
}
