/**
 * Chart.js, tree-shaken to what the panels draw (line and scatter on linear/log scales), themed from the
 * palette. Animations are off: panels redraw often and screenshots must be deterministic.
 */
import {
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  ScatterController,
  Title,
  Tooltip,
  type ChartConfiguration,
  type ChartDataset,
  type Plugin,
  type Scale,
} from 'chart.js';
import type { Palette } from './colors';
import { toCss } from './lib/colormap';
import { logAxisTicks, logTickLabels } from './lib/log-ticks';

Chart.register(LineController, ScatterController, LineElement, PointElement, LinearScale, LogarithmicScale, Title, Tooltip, Legend, Filler);

export type XY = { x: number; y: number | null };
export type LineChart = Chart<'line' | 'scatter', XY[]>;

export function themeCharts(p: Palette): void {
  Chart.defaults.color = toCss(p.fg);
  Chart.defaults.borderColor = toCss(p.grid);
  Chart.defaults.font.family = p.fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.tooltip.backgroundColor = toCss(p.bg, 0.95);
  Chart.defaults.plugins.tooltip.titleColor = toCss(p.fg);
  Chart.defaults.plugins.tooltip.bodyColor = toCss(p.fg);
  Chart.defaults.plugins.tooltip.borderColor = toCss(p.fg, 0.5);
  Chart.defaults.plugins.tooltip.borderWidth = 1;
  Chart.defaults.elements.line.borderWidth = p.kind === 'high-contrast' ? 2.5 : 1.5;
}

/**
 * A log y axis with readable ticks (webview/lib/log-ticks): Chart.js's own ticks (every 1…9 × 10^k) are
 * replaced after they set the axis range, so a curve inside one decade still gets two or more labels.
 */
export const logScale = {
  type: 'logarithmic' as const,
  afterBuildTicks: (scale: Scale): void => {
    scale.ticks = logAxisTicks(scale.min, scale.max).map((value) => ({ value }));
  },
  ticks: {
    callback: (_v: number | string, i: number, ticks: { value: number }[]): string => logTickLabels(ticks.map((t) => t.value))[i] ?? '',
  },
};

/** A line dataset with the panels' defaults (no points unless asked, NaN/null gaps kept). */
export function lineDataset(
  label: string,
  data: XY[],
  color: string,
  extra: Partial<ChartDataset<'line', XY[]>> = {},
): ChartDataset<'line', XY[]> {
  return {
    type: 'line',
    label,
    data,
    borderColor: color,
    backgroundColor: color,
    pointRadius: 0,
    pointHitRadius: 6,
    spanGaps: false,
    ...extra,
  };
}

export function createChart(canvas: HTMLCanvasElement, config: ChartConfiguration<'line' | 'scatter', XY[]>): LineChart {
  const chart = new Chart(canvas, config) as LineChart;
  markChart(chart);
  return chart;
}

/**
 * Series/point counts, the legend's entries and the y axis's tick labels as data attributes, for
 * end-to-end tests and for screen-reader summaries.
 */
export function markChart(chart: LineChart): void {
  const sets = chart.data.datasets;
  const points = sets.reduce((s, d) => s + d.data.filter((p) => p && p.y !== null && Number.isFinite(p.y)).length, 0);
  chart.canvas.dataset.series = String(sets.length);
  chart.canvas.dataset.points = String(points);
  const legend = chart.options.plugins?.legend?.display === false ? [] : (chart.legend?.legendItems ?? []);
  chart.canvas.dataset.legend = legend.map((i) => i.text).join('|');
  chart.canvas.dataset.yTicks = (chart.scales.y?.ticks ?? [])
    .map((t) => String(t.label ?? ''))
    .filter((l) => l !== '')
    .join('|');
}

export function updateChart(chart: LineChart): void {
  chart.update('none');
  markChart(chart);
}

/** Draws a vertical line at x = getX() (a time cursor). */
export function cursorPlugin(getX: () => number | null, color: () => string): Plugin<'line' | 'scatter'> {
  return {
    id: 'timeCursor',
    afterDatasetsDraw(chart) {
      const x = getX();
      const sx = chart.scales.x;
      if (x === null || !sx) return;
      const px = sx.getPixelForValue(x);
      if (!(px >= chart.chartArea.left && px <= chart.chartArea.right)) return;
      const ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = color();
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ctx.moveTo(px, chart.chartArea.top);
      ctx.lineTo(px, chart.chartArea.bottom);
      ctx.stroke();
      ctx.restore();
    },
  };
}

/** Fills the canvas background before drawing so PNG exports are opaque and readable. */
export function backgroundPlugin(color: () => string): Plugin<'line' | 'scatter'> {
  return {
    id: 'opaqueBackground',
    beforeDraw(chart) {
      const ctx = chart.ctx;
      ctx.save();
      ctx.globalCompositeOperation = 'destination-over';
      ctx.fillStyle = color();
      ctx.fillRect(0, 0, chart.width, chart.height);
      ctx.restore();
    },
  };
}

export { Chart };
