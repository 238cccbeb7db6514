// The benchmark report's chart (docs/benchmarks.svg): throughput per profile (log scale) and
// open-loop latency percentiles.
import { esc, mainVariant, rate, type BenchResults, type ProfileResults } from './report.ts';

interface Bar {
  label: string;
  short: number | undefined;
  long: number | undefined;
}

function barsOf(p: ProfileResults): Bar[] {
  const s = p.sets.short;
  const l = p.sets.long;
  const bars: Bar[] = [
    {
      label: 'tokenizer × cores',
      short: s && s.tokenizer.reviewsPerSPerThread.median * s.tokenizer.threadsInBudget,
      long: l && l.tokenizer.reviewsPerSPerThread.median * l.tokenizer.threadsInBudget,
    },
    { label: 'compute ceiling', short: s?.compute.best.reviewsPerS.median, long: l?.compute.best.reviewsPerS.median },
  ];
  if (p.queue)
    bars.push({ label: 'queue ceiling (flow)', short: p.queue.flowJobsPerS.median, long: p.queue.flowJobsPerS.median });
  for (const f of p.fleets)
    bars.push({ label: `fleet ${f.variant}`, short: rate(p, f.variant, 'short'), long: rate(p, f.variant, 'long') });
  if (p.peer?.status === 'measured')
    bars.push({
      label: 'peer, one per call',
      short: p.peer.sets.short?.perReviewPerS.median,
      long: p.peer.sets.long?.perReviewPerS.median,
    });
  return bars;
}

export function renderChart(r: BenchResults): string {
  const W = 960;
  const rowH = 40;
  const panels = r.profiles.map((p) => ({ p, bars: barsOf(p) }));
  const barsH = panels.reduce((h, x) => h + 40 + x.bars.length * rowH, 0);
  const H = Math.max(barsH, 340) + 50;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  const x0 = 170;
  const pw = 360;
  let y = 10;
  for (const { p, bars } of panels) {
    const values = bars
      .flatMap((b) => [b.short, b.long])
      .filter((v): v is number => v !== undefined && Number.isFinite(v) && v > 0);
    const minV = Math.max(1, 10 ** Math.floor(Math.log10(Math.min(...values))));
    const maxV = Math.max(...values) * 1.3;
    const scale = (v: number | undefined): number =>
      v !== undefined && Number.isFinite(v) && v > 0
        ? ((Math.log10(Math.max(v, minV)) - Math.log10(minV)) / (Math.log10(maxV) - Math.log10(minV))) * pw
        : 0;
    out.push(
      `<text x="10" y="${y + 16}" font-size="14" font-weight="bold">${esc(p.title)}: reviews/s (log scale, median)</text>`,
    );
    const top = y + 28;
    for (let tick = minV; tick <= maxV; tick *= 10) {
      const x = x0 + scale(tick);
      out.push(
        `<line x1="${x}" y1="${top}" x2="${x}" y2="${top + rowH * bars.length}" stroke="#ddd"/>`,
        `<text x="${x}" y="${top + rowH * bars.length + 11}" text-anchor="middle" fill="#666" font-size="10">${tick.toLocaleString('en-US')}</text>`,
      );
    }
    bars.forEach((b, i) => {
      const by = top + i * rowH;
      out.push(`<text x="${x0 - 8}" y="${by + 20}" text-anchor="end">${esc(b.label)}</text>`);
      for (const [k, v, color] of [
        [0, b.short, '#4c78a8'],
        [1, b.long, '#f58518'],
      ] as const) {
        const w = scale(v);
        out.push(
          `<rect x="${x0}" y="${by + 3 + k * 17}" width="${w.toFixed(1)}" height="14" fill="${color}"/>`,
          `<text x="${x0 + w + 4}" y="${by + 14 + k * 17}" fill="#333" font-size="11">${v !== undefined && Number.isFinite(v) ? (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1)) : 'n/a'}</text>`,
        );
      }
    });
    y = top + rowH * bars.length + 14;
  }
  out.push(
    `<rect x="${x0}" y="${H - 24}" width="12" height="12" fill="#4c78a8"/><text x="${x0 + 16}" y="${H - 14}">Flipkart (short)</text>`,
    `<rect x="${x0 + 130}" y="${H - 24}" width="12" height="12" fill="#f58518"/><text x="${x0 + 146}" y="${H - 14}">Amazon (long)</text>`,
  );

  // Right: open-loop latency of every profile's default-policy fleet.
  const runs = r.profiles.flatMap((p) =>
    p.fleets.find((f) => f.variant === mainVariant(p))
      ? Object.entries(p.fleets.find((f) => f.variant === mainVariant(p))!.sets).flatMap(([set, s]) =>
          s.latency.map((l) => ({ ...l, label: `${p.name === 'default' ? '' : `${p.name} `}${set} ${l.load * 100}%` })),
        )
      : [],
  );
  const lx = 640;
  const ly = 40;
  const lh = 240;
  const lw = 300;
  out.push(
    `<text x="${lx - 20}" y="26" font-size="14" font-weight="bold">Open-loop latency, ms (log scale)</text>`,
    `<line x1="${lx}" y1="${ly + lh}" x2="${lx + lw}" y2="${ly + lh}" stroke="#999"/>`,
  );
  const all = runs.flatMap((x) => [x.p50Ms, x.p95Ms, x.p99Ms]).filter((v) => Number.isFinite(v) && v > 0);
  const maxL = Math.max(10, ...all) * 1.3;
  const ls = (v: number): number =>
    Number.isFinite(v) && v > 0 ? (Math.log10(Math.max(v, 1)) / Math.log10(maxL)) * (lh - 20) : 0;
  const gw = lw / Math.max(1, runs.length);
  runs.forEach((run, i) => {
    const gx = lx + i * gw;
    ([run.p50Ms, run.p95Ms, run.p99Ms] as const).forEach((v, k) => {
      const h = ls(v);
      const bw = (gw - 8) / 3;
      const bx = gx + 4 + k * bw;
      out.push(
        `<rect x="${bx.toFixed(1)}" y="${(ly + lh - h).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${['#54a24b', '#eeca3b', '#e45756'][k]}"/>`,
        `<text x="${(bx + bw / 2).toFixed(1)}" y="${(ly + lh - h - 3).toFixed(1)}" text-anchor="middle" font-size="9">${Math.round(v)}</text>`,
      );
    });
    out.push(
      `<text transform="translate(${gx + gw / 2},${ly + lh + 8}) rotate(40)" font-size="10">${esc(run.label)}</text>`,
    );
  });
  out.push(
    `<rect x="${lx}" y="${ly + lh + 90}" width="12" height="12" fill="#54a24b"/><text x="${lx + 16}" y="${ly + lh + 100}">p50</text>`,
    `<rect x="${lx + 60}" y="${ly + lh + 90}" width="12" height="12" fill="#eeca3b"/><text x="${lx + 76}" y="${ly + lh + 100}">p95</text>`,
    `<rect x="${lx + 120}" y="${ly + lh + 90}" width="12" height="12" fill="#e45756"/><text x="${lx + 136}" y="${ly + lh + 100}">p99</text>`,
  );
  out.push('</svg>', '');
  return out.join('\n');
}
