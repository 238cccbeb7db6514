/** Summaries of a V8 .cpuprofile (node --cpu-prof): self time by package and by function. */

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
}
export interface ProfileSummary {
  totalMs: number;
  byPackage: { name: string; ms: number; share: number }[];
  byFunction: { name: string; where: string; ms: number; share: number }[];
}

/** The package a script URL belongs to: node_modules/<pkg>, node:internal, or the project path. */
export function packageOf(url: string, root: string): string {
  if (url === '') return '(native / VM)';
  if (url.startsWith('node:')) return 'node: (core)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const rel = url.replace(/^file:\/\//, '').replace(`${root}/`, '');
  return rel.split('/').slice(0, 2).join('/');
}

export function summarizeCpuProfile(profile: CpuProfile, root: string): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  let totalMs = 0;
  const packages = new Map<string, number>();
  const functions = new Map<string, { name: string; where: string; ms: number }>();
  for (const [id, ms] of self) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') continue;
    totalMs += ms;
    const pkg = functionName === '(garbage collector)' ? '(garbage collector)' : packageOf(url, root);
    packages.set(pkg, (packages.get(pkg) ?? 0) + ms);
    const where = url ? `${packageOf(url, root)}:${lineNumber + 1}` : '';
    const key = `${functionName}@${url}:${lineNumber}`;
    const f = functions.get(key) ?? { name: functionName || '(anonymous)', where, ms: 0 };
    f.ms += ms;
    functions.set(key, f);
  }
  const share = (ms: number): number => (totalMs > 0 ? (ms / totalMs) * 100 : 0);
  return {
    totalMs,
    byPackage: [...packages].map(([name, ms]) => ({ name, ms, share: share(ms) })).sort((a, b) => b.ms - a.ms),
    byFunction: [...functions.values()].map((f) => ({ ...f, share: share(f.ms) })).sort((a, b) => b.ms - a.ms),
  };
}
