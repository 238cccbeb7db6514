import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readmeConfigTable, renderConfigTable } from '../../src/config/config-docs.ts';
import { settings } from '../../src/config/config-schema.ts';

describe('README configuration table', () => {
  it('matches the schema (regenerate with npm run docs:config)', () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
    expect(readmeConfigTable(readme)).toBe(renderConfigTable());
    for (const name of Object.keys(settings)) expect(renderConfigTable()).toContain(`| \`${name}\` |`);
  });
});
