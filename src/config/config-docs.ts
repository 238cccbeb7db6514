import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { settings, type SettingName } from './config-schema.ts';

/** The default of a setting as the README shows it. */
function defaultOf(name: SettingName): string {
  const schema = settings[name].schema as z.ZodType;
  const parsed = schema.safeParse(undefined);
  if (parsed.success && parsed.data !== undefined) return `\`${String(parsed.data)}\``;
  return '—';
}

/** The README's configuration table, generated from the schema so the two cannot drift. */
export function renderConfigTable(): string {
  const rows = (Object.keys(settings) as SettingName[]).map((name) => `| \`${name}\` | ${defaultOf(name)} | ${settings[name].doc} |`);
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

const TABLE = /<!-- config-table:start -->\n([\s\S]*?)\n?<!-- config-table:end -->/;

/** The table currently in a README, or undefined. */
export function readmeConfigTable(readme: string): string | undefined {
  return TABLE.exec(readme)?.[1];
}

/** Rewrites the README's configuration table from the schema (`npm run docs:config`). */
export function updateReadmeConfigTable(readmePath: string): void {
  const readme = readFileSync(readmePath, 'utf8');
  writeFileSync(readmePath, readme.replace(TABLE, `<!-- config-table:start -->\n${renderConfigTable()}\n<!-- config-table:end -->`));
}
