/**
 * A reliability diagram as a standalone SVG: per confidence bin, the accuracy of the rows in it
 * (bars) against the diagonal a calibrated model follows; bar labels give the rows per bin.
 * Several series (e.g. before and after temperature scaling) are drawn side by side per bin.
 */
import type { CalibrationReport } from './calibration.ts';

export interface ReliabilitySeries {
  name: string;
  report: CalibrationReport;
}

const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759'];
const escape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function reliabilityDiagramSvg(title: string, series: readonly ReliabilitySeries[]): string {
  const width = 560;
  const m = { left: 56, right: 16, top: 40, bottom: 64 + 18 * Math.max(series.length, 1) };
  const height = 360 + m.bottom;
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const x = (v: number) => m.left + v * w;
  const y = (v: number) => m.top + (1 - v) * h;
  const bins = series[0]?.report.bins.length ?? 10;
  const slot = w / bins;
  const barWidth = (slot * 0.8) / Math.max(series.length, 1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="13">${escape(title)}</text>`,
  ];
  for (let t = 0; t <= 10; t += 2) {
    const v = t / 10;
    out.push(`<line x1="${x(0)}" y1="${y(v)}" x2="${x(1)}" y2="${y(v)}" stroke="#eee"/>`);
    out.push(`<text x="${m.left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(1)}</text>`);
    out.push(`<text x="${x(v)}" y="${y(0) + 16}" text-anchor="middle">${v.toFixed(1)}</text>`);
  }
  series.forEach((s, k) => {
    s.report.bins.forEach((bin, b) => {
      if (bin.rows === 0) return;
      const left = m.left + b * slot + slot * 0.1 + k * barWidth;
      out.push(
        `<rect x="${left.toFixed(1)}" y="${y(bin.accuracy).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(y(0) - y(bin.accuracy)).toFixed(1)}" fill="${COLORS[k % COLORS.length]}" fill-opacity="0.8">` +
          `<title>${escape(s.name)}: confidence ${bin.from.toFixed(1)}–${bin.to.toFixed(1)}, ${bin.rows} rows, accuracy ${bin.accuracy.toFixed(3)}, mean confidence ${bin.confidence.toFixed(3)}</title></rect>`,
      );
      out.push(
        `<circle cx="${(left + barWidth / 2).toFixed(1)}" cy="${y(bin.confidence).toFixed(1)}" r="2.5" fill="#222"/>`,
      );
    });
  });
  out.push(`<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#888" stroke-dasharray="4 3"/>`);
  out.push(
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(0)}" stroke="#333"/><line x1="${x(0)}" y1="${y(0)}" x2="${x(0)}" y2="${y(1)}" stroke="#333"/>`,
  );
  out.push(
    `<text x="${x(0.5)}" y="${y(0) + 32}" text-anchor="middle">top-label probability (bins of 0.1; dots: mean probability in the bin)</text>`,
  );
  out.push(`<text transform="translate(16 ${y(0.5)}) rotate(-90)" text-anchor="middle">accuracy in the bin</text>`);
  series.forEach((s, k) => {
    const ly = y(0) + 56 + k * 18;
    const lx = m.left;
    out.push(
      `<rect x="${lx}" y="${ly - 9}" width="12" height="12" fill="${COLORS[k % COLORS.length]}" fill-opacity="0.8"/>`,
    );
    out.push(
      `<text x="${lx + 18}" y="${ly + 1}">${escape(`${s.name}: ECE ${s.report.ece.toFixed(4)} (${s.report.rows} rows)`)}</text>`,
    );
  });
  out.push('</svg>', '');
  return out.join('\n');
}
