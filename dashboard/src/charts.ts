// Thin wrappers over uPlot (bundled from npm): time-series charts and a categorical bar chart that
// follow their container's width.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface SeriesSpec {
  label: string;
  color: string;
  /** Fill the area under the line (translucent). */
  fill?: boolean;
  dash?: number[];
  /** Bars instead of a line: centred, or the left/right half of a pair at each x. */
  bars?: 'full' | 'left' | 'right';
  /** Legend value at data index `idx` (default: the chart's yFormat of the value). */
  format?: (v: number, idx: number) => string;
}

export interface ChartSpec {
  series: SeriesSpec[];
  height?: number;
  /** Format of y-axis ticks. */
  yFormat?: (v: number) => string;
  /** Fixed y range, e.g. [0, 1] for shares. */
  yRange?: [number, number];
  /** Categorical x axis: x values are indices into these labels. Default: a time axis (epoch seconds). */
  categories?: string[];
  /** Counts: y ticks at whole numbers only. */
  integer?: boolean;
  /** Time axis: show at least this many seconds, ending at the last point (sparse per-minute data). */
  minSpanS?: number;
  /** Time axis: room on both sides of the data, in seconds (half a bar). */
  padS?: number;
}

const INTEGER_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 1e7, 1e8];

const AXIS = {
  stroke: '#5b6472',
  grid: { stroke: '#edf0f4', width: 1 },
  ticks: { stroke: '#edf0f4', width: 1 },
  font: '11px system-ui, sans-serif',
};

function translucent(hex: string, alpha: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

const timeLabel = (v: number, seconds = true) =>
  new Date(v * 1000).toLocaleTimeString('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    ...(seconds ? { second: '2-digit' } : {}),
  });

/** 24-hour tick labels, with seconds only when ticks are less than a minute apart. */
const timeTicks = (_u: uPlot, splits: number[]) => {
  const step = splits.length > 1 ? splits[1]! - splits[0]! : 60;
  return splits.map((v) => timeLabel(v, step < 60));
};

/** The data's time span, widened to `minSpanS` ending at the last point (or now, with no data). */
function timeRange(xs: ArrayLike<number> | undefined, minSpanS: number, padS: number): uPlot.Range.MinMax {
  const last = xs && xs.length > 0 ? xs[xs.length - 1]! : Date.now() / 1000;
  const first = xs && xs.length > 0 ? xs[0]! : last;
  return [Math.min(first, last - minSpanS) - padS, last + padS];
}

/** uPlot bar layouts: [share of the slot, max px]; a pair's halves sit left and right of x. */
const BARS: Record<NonNullable<SeriesSpec['bars']>, uPlot.Series.BarsPathBuilderOpts> = {
  full: { size: [0.7, 48], align: 0 },
  left: { size: [0.4, 20], align: -1 },
  right: { size: [0.4, 20], align: 1 },
};

export class Chart {
  private readonly plot: uPlot;
  private readonly resize: ResizeObserver;

  constructor(
    private readonly container: HTMLElement,
    spec: ChartSpec,
  ) {
    const yFormat = spec.yFormat ?? ((v: number) => String(v));
    const categories = spec.categories;
    const series: uPlot.Series[] = [
      categories
        ? { label: 'bucket', value: (_u, v) => (v === null ? '–' : (categories[v] ?? '')) }
        : { label: 'time', value: (_u, v) => (v === null ? '–' : timeLabel(v)) },
      ...spec.series.map((s): uPlot.Series => {
        const format = s.format ?? yFormat;
        const bars = s.bars ? BARS[s.bars] : undefined;
        return {
          label: s.label,
          stroke: s.color,
          width: s.bars ? 0 : 2,
          ...(s.dash ? { dash: s.dash } : {}),
          ...(s.fill || s.bars ? { fill: s.bars ? s.color : translucent(s.color, 0.12) } : {}),
          ...(bars ? { paths: uPlot.paths.bars!(bars), points: { show: false } } : {}),
          spanGaps: false,
          value: (_u, v, _sidx, idx) => (v === null || v === undefined || idx === null ? '' : format(v, idx)),
        };
      }),
    ];
    const opts: uPlot.Options = {
      width: this.width(),
      height: spec.height ?? 190,
      series,
      legend: { live: true },
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      padding: [10, 24, 0, 4],
      scales: {
        x: categories
          ? { time: false, range: [-0.5, categories.length - 0.5] }
          : { time: true, range: (u) => timeRange(u.data[0], spec.minSpanS ?? 10, spec.padS ?? 0) },
        y: spec.yRange ? { range: spec.yRange } : { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        categories
          ? {
              ...AXIS,
              splits: () => categories.map((_, i) => i),
              values: (_u, splits) => splits.map((i) => categories[i] ?? ''),
            }
          : { ...AXIS, values: timeTicks },
        {
          ...AXIS,
          size: 58,
          values: (_u, splits) => splits.map(yFormat),
          ...(spec.integer ? { incrs: INTEGER_INCRS } : {}),
        },
      ],
    };
    const empty: uPlot.AlignedData = [[], ...spec.series.map(() => [])];
    this.plot = new uPlot(opts, empty, container);
    this.resize = new ResizeObserver(() => {
      const width = this.width();
      if (width !== this.plot.width) this.plot.setSize({ width, height: this.plot.height });
    });
    this.resize.observe(container);
  }

  private width(): number {
    return Math.max(200, Math.floor(this.container.clientWidth));
  }

  /** Replaces the data and rescales; `data-points` on the container tells how many x values, `data-first` the first. */
  setData(data: uPlot.AlignedData): void {
    this.container.dataset.points = String(data[0]?.length ?? 0);
    this.container.dataset.first = String(data[0]?.[0] ?? '');
    this.plot.setData(data, true);
  }

  destroy(): void {
    this.resize.disconnect();
    this.plot.destroy();
  }
}

/** Colours of well-known labels; other labels get the palette in order of appearance. */
const LABEL_COLORS: Record<string, string> = {
  negative: '#d6455d',
  positive: '#1f9d6b',
  neutral: '#8a94a6',
  mixed: '#c58b1b',
};
const PALETTE = ['#3b6fd8', '#8e5bd6', '#c58b1b', '#1aa3b8', '#d46a2c', '#5f7d2b', '#b84a8c'];

export function labelColor(label: string, index: number): string {
  return LABEL_COLORS[label.toLowerCase()] ?? PALETTE[index % PALETTE.length]!;
}
