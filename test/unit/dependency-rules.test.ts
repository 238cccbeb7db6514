// The folder rules of .dependency-cruiser.cjs (docs/architecture.md): the repository keeps them,
// and each rule fires on a planted violation (so a rule that matches nothing cannot pass unseen).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { cruise, type ICruiseResult, type IForbiddenRuleType } from 'dependency-cruiser';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const config = createRequire(import.meta.url)(path.join(root, '.dependency-cruiser.cjs')) as {
  forbidden: IForbiddenRuleType[];
  options: Record<string, unknown>;
};
/** What `npm run lint:deps` cruises (package.json). */
const CRUISED = ['src', 'bin', 'workers', 'producer', 'packages/client/src', 'dashboard/src'];

async function violations(baseDir: string, dirs: string[], extra: Record<string, unknown> = {}): Promise<string[]> {
  const { output } = await cruise(dirs, {
    ...config.options,
    ...extra,
    baseDir,
    validate: true,
    ruleSet: { forbidden: config.forbidden },
  });
  const result = output as ICruiseResult;
  return result.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
}

describe('dependency rules', () => {
  it('the repository keeps every rule (npm run lint:deps)', async () => {
    expect(await violations(root, CRUISED)).toEqual([]);
  });

  describe('each rule fires', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sf-deps-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const files: Record<string, string> = {
      // queue → stats: a later flow folder, and a cycle of folders and of modules.
      'src/queue/worker.ts': "import { record } from '../stats/recorder.ts';\nexport const run = () => record;",
      'src/stats/recorder.ts':
        "import type { run } from '../queue/worker.ts';\nexport const record = (r?: typeof run) => r;",
      // Allowed: a later flow folder imports an earlier one; a flow folder imports a shared one.
      'src/storage/store.ts':
        "import { zodOnly } from '../contracts/ok.ts';\nimport { run } from '../queue/worker.ts';\nexport const s = [zodOnly, run];",
      'src/contracts/ok.ts': "import { z } from 'zod';\nexport const zodOnly = z.string();",
      // contracts: zod only, no other shared folder.
      'src/contracts/bad.ts':
        "import os from 'node:os';\nimport { E } from '../errors/e.ts';\nexport const x = [os, E];",
      'src/errors/e.ts': 'export const E = 1;',
      // A shared folder importing a later shared one and a flow folder.
      'src/config/c.ts':
        "import { L } from '../logging/l.ts';\nimport { run } from '../queue/worker.ts';\nexport const C = [L, run];",
      'src/logging/l.ts': 'export const L = 1;',
      // training is tooling: nothing in the flow imports it; it imports nothing later than inference.
      'src/inference/i.ts': "import { T } from '../training/t.ts';\nexport const I = T;",
      'src/training/t.ts': "import { s } from '../storage/store.ts';\nexport const T = s;",
      // dev and app: only app imports dev; nobody imports app.
      'src/results/r.ts':
        "import { D } from '../dev/d.ts';\nimport { A } from '../app/a.ts';\nexport const R = [D, A];",
      'src/dev/d.ts': "import { run } from '../queue/worker.ts';\nexport const D = run;",
      'src/app/a.ts':
        "import { D } from '../dev/d.ts';\nimport { T } from '../training/t.ts';\nexport const A = [D, T];",
      // Product code importing tooling; an unknown folder; a file loose in src/.
      'src/ingest/x.ts': "import { chaos } from '../../chaos/z.ts';\nexport const X = chaos;",
      'chaos/z.ts': 'export const chaos = 1;',
      'src/helpers/h.ts': "import { E } from '../errors/e.ts';\nexport const H = E;",
      'src/loose.ts': "import { E } from './errors/e.ts';\nexport const Loose = E;",
      // The client package compiles in src/contracts only.
      'packages/client/src/k.ts':
        "import { E } from '../../../src/errors/e.ts';\nimport { zodOnly } from '../../../src/contracts/ok.ts';\nexport const K = [E, zodOnly];",
    };
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), `${text}\n`);
    }
    symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');

    it('names exactly the planted violations', async () => {
      // preserveSymlinks: zod resolves under the fixture's node_modules (a link to the repository's).
      const found = await violations(dir, ['src', 'packages/client/src'], { preserveSymlinks: true });
      expect(found).toEqual(
        [
          'client-imports-contracts-only: packages/client/src/k.ts -> src/errors/e.ts',
          'contracts-zod-only: src/contracts/bad.ts -> os',
          'contracts-zod-only: src/contracts/bad.ts -> src/errors/e.ts',
          'dev-imports: src/dev/d.ts -> src/queue/worker.ts',
          'dev-only-from-app: src/results/r.ts -> src/dev/d.ts',
          'app-is-composition: src/results/r.ts -> src/app/a.ts',
          'flow-order-queue: src/queue/worker.ts -> src/stats/recorder.ts',
          'no-folder-cycles: src/queue -> src/stats',
          'no-folder-cycles: src/stats -> src/queue',
          'no-loose-files-in-src: src/loose.ts -> src/errors/e.ts',
          'no-module-cycles: src/queue/worker.ts -> src/stats/recorder.ts',
          'product-not-tooling: src/ingest/x.ts -> chaos/z.ts',
          'shared-order-config: src/config/c.ts -> src/logging/l.ts',
          'shared-order-config: src/config/c.ts -> src/queue/worker.ts',
          'shared-order-contracts: src/contracts/bad.ts -> src/errors/e.ts',
          'training-imports: src/training/t.ts -> src/storage/store.ts',
          'training-is-tooling: src/inference/i.ts -> src/training/t.ts',
          'unknown-folder: src/helpers/h.ts -> src/errors/e.ts',
        ].sort(),
      );
    });
  });
});
