// Product code (what `npm run build` compiles and the image runs) never imports the tooling:
// bench/, chaos/, fuzz/, test/, tools/. Fault injection, benchmark models and test graphs live there and
// reach the product only through its ordinary options (e.g. createWorkerApp's threadEntry).
// `npm run lint:deps` checks imports too (.dependency-cruiser.cjs); this scan also sees
// `new URL(x, import.meta.url)`, which dependency-cruiser does not, and checks the build and image.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const PRODUCT = ['src', 'workers', 'producer', 'bin'];
const TOOLING = ['bench', 'chaos', 'fuzz', 'test', 'tools'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceFiles(path.join(dir, e.name))
      : /\.(ts|mts|mjs|js)$/.test(e.name)
        ? [path.join(dir, e.name)]
        : [],
  );
}

/** Module specifiers of static and dynamic imports, re-exports, require() and `new URL(x, import.meta.url)`. */
function moduleSpecifiers(source: string): string[] {
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\b(?:import|require)\s*\(\s*['"`]([^'"`]+)['"`]/g,
    /\bnew URL\(\s*['"`]([^'"`]+)['"`]\s*,\s*import\.meta\.url/g,
  ];
  return patterns.flatMap((p) => [...source.matchAll(p)].map((m) => m[1]!));
}

/** The top-level folder a relative specifier of `file` lands in (undefined for a package). */
function targetFolder(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  return path.relative(root, path.resolve(path.dirname(file), specifier)).split(path.sep)[0];
}

describe('product / tooling boundary', () => {
  it('finds the specifiers of every import form', () => {
    const source = [
      "import { a } from '../../chaos/a.ts';",
      "import type {\n  B,\n} from '../bench/b.ts';",
      "export { c } from './c.ts';",
      "import '../test/side-effect.ts';",
      "const d = await import('../fuzz/d.ts');",
      "const e = new URL('../chaos/e.ts', import.meta.url);",
    ].join('\n');
    expect(moduleSpecifiers(source).sort()).toEqual([
      '../../chaos/a.ts',
      '../bench/b.ts',
      '../chaos/e.ts',
      '../fuzz/d.ts',
      '../test/side-effect.ts',
      './c.ts',
    ]);
  });

  it('no file of src/, workers/, producer/ or bin/ imports from bench/, chaos/, fuzz/, test/ or tools/', () => {
    const files = PRODUCT.flatMap((dir) => sourceFiles(path.join(root, dir)));
    expect(files.length).toBeGreaterThan(50);
    const offending = files.flatMap((file) =>
      moduleSpecifiers(readFileSync(file, 'utf8'))
        .filter((s) => TOOLING.includes(targetFolder(file, s) ?? ''))
        .map((s) => `${path.relative(root, file)} imports ${s}`),
    );
    expect(offending).toEqual([]);
  });

  it('the build compiles only the product folders, and the image copies no tooling', () => {
    const buildJson = readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8').replace(/^\s*\/\/.*$/gm, '');
    const build = JSON.parse(buildJson) as { include: string[] };
    expect([...build.include].sort()).toEqual([...PRODUCT].sort());
    const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
    // COPY [--from=stage] SRC... DEST: the sources.
    const copied = [...dockerfile.matchAll(/^COPY\s+(?:--from=\S+\s+)?(.+)\s+\S+$/gm)].flatMap((m) =>
      m[1]!.split(/\s+/),
    );
    expect(copied.length).toBeGreaterThan(0);
    expect(copied.filter((src) => TOOLING.includes(src.replace(/^\/app\//, '').split('/')[0]!))).toEqual([]);
  });
});
