import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { openDashboardAssets } from '../../src/stats/dashboard-assets.ts';

it('under tsx (development) builds the dashboard from its sources even when a prebuilt bundle exists', async () => {
  const prebuiltDir = mkdtempSync(path.join(os.tmpdir(), 'sf-prebuilt-'));
  writeFileSync(path.join(prebuiltDir, 'index.html'), '<!doctype html><title>stale</title>');
  try {
    const assets = await openDashboardAssets(prebuiltDir);
    expect(assets.prebuilt).toBe(false);
    expect(assets.dir).not.toBe(prebuiltDir);
    expect(existsSync(path.join(assets.dir, 'main.js'))).toBe(true);
    await assets.remove();
    await assets.remove(); // safe twice
    expect(existsSync(assets.dir)).toBe(false);
  } finally {
    rmSync(prebuiltDir, { recursive: true, force: true });
  }
});
