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
} from 'chart.js';
import type { Palette } from './colors';
import { toCss } from './lib/colormap';

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

/** Tick labels for log axes: powers of ten only (Chart.js otherwise labels 2× and 5× too). */
export const logTicks = {
  callback: (v: number | string): string => {
    const n = Number(v);
    const e = Math.log10(n);
    return Math.abs(e - Math.round(e)) < 1e-9 ? (Math.abs(e) >= 3 ? `1e${Math.round(e)}` : String(n)) : '';
  },
};

/** A line dataset with the panels' defaults (no points unless asked, NaN/null gaps kept). */
export function lineDataset(label: string, data: XY[], color: string, extra: Partial<ChartDataset<'line', XY[]>> = {}): ChartDataset<'line', XY[]> {
  return { type: 'line', label, data, borderColor: color, backgroundColor: color, pointRadius: 0, pointHitRadius: 6, spanGaps: false, ...extra };
}

export function createChart(canvas: HTMLCanvasElement, config: ChartConfiguration<'line' | 'scatter', XY[]>): LineChart {
  const chart = new Chart(canvas, config) as LineChart;
  markChart(chart);
  return chart;
}

/** Series/point counts as data attributes, for end-to-end tests and for screen-reader summaries. */
export function markChart(chart: LineChart): void {
  const sets = chart.data.datasets;
  const points = sets.reduce((s, d) => s + d.data.filter((p) => p && p.y !== null && Number.isFinite(p.y)).length, 0);
  chart.canvas.dataset.series = String(sets.length);
  chart.canvas.dataset.points = String(points);
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
