import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_DOC, configTableIn, renderConfigTable } from '../../src/config/config-docs.ts';
import { settings } from '../../src/config/config-schema.ts';

describe('the configuration table (docs/configuration.md)', () => {
  it('matches the schema (regenerate with npm run docs:config)', () => {
    const page = readFileSync(path.resolve(import.meta.dirname, '../..', CONFIG_DOC), 'utf8');
    expect(configTableIn(page)).toBe(renderConfigTable());
    for (const name of Object.keys(settings)) expect(renderConfigTable()).toContain(`| \`${name}\` |`);
  });

  it('quotes no benchmark run: a setting says what it does and links to its evidence', () => {
    // Figures of runs belong in docs/benchmarks.md, where they are dated and next to their method.
    const narrating = Object.entries(settings).filter(([, s]) =>
      /reviews\/s|bench:compare|\d×|\d+ ?%|chaos run/.test(s.doc),
    );
    expect(narrating.map(([name]) => name)).toEqual([]);
  });
});
