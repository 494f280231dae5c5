/**
 * The paper's Figure 3 view inside the bistability panel: the first sequence's input channels with the
 * task's marker times, drawn above the fraction-bistable and mean-gate charts on the same time axis; the
 * hold period is shaded on all three and its per-layer averages are written under them.
 */
import type { BistabilityLayer, InputAlignment } from '../../core/diagnostics/types';
import { backgroundPlugin, createChart, lineDataset, type LineChart, type XY } from '../charts';
import { el } from '../dom';
import type { Palette } from '../colors';
import { toCss } from '../lib/colormap';
import { fmt, fmtPercent } from '../lib/format';
import { seriesColor } from './common';
import type { Plugin } from 'chart.js';
import { layerLabel } from '../../core/diagnostics/labels';
import type { Estimate } from '../../core/diagnostics/stats';

/** Shades the hold period and draws a dashed line at each marker time (shared by the aligned charts). */
export function taskSpanPlugin(
  get: () => InputAlignment | undefined,
  colors: () => { hold: string; marker: string },
): Plugin<'line' | 'scatter'> {
  return {
    id: 'taskSpans',
    beforeDatasetsDraw(chart) {
      const inp = get();
      const sx = chart.scales.x;
      if (!inp || !sx) return;
      const { top, bottom, left, right } = chart.chartArea;
      const ctx = chart.ctx;
      const c = colors();
      ctx.save();
      if (inp.hold) {
        const x0 = Math.max(left, sx.getPixelForValue(inp.hold.from));
        const x1 = Math.min(right, sx.getPixelForValue(inp.hold.to));
        ctx.fillStyle = c.hold;
        if (x1 > x0) ctx.fillRect(x0, top, x1 - x0, bottom - top);
      }
      ctx.strokeStyle = c.marker;
      ctx.setLineDash([2, 3]);
      for (const t of inp.markers) {
        const px = sx.getPixelForValue(t);
        if (px < left || px > right) continue;
        ctx.beginPath();
        ctx.moveTo(px, top);
        ctx.lineTo(px, bottom);
        ctx.stroke();
      }
      ctx.restore();
    },
  };
}

/** Translucent fill for the hold period, from the theme's focus colour. */
export function spanColors(p: Palette): { hold: string; marker: string } {
  return { hold: toCss(p.focus, 0.12), marker: toCss(p.fg) };
}

/** One sentence per layer: what the fractions and gate average over the hold period. */
export function holdSummary(inp: InputAlignment | undefined): string {
  if (!inp?.hold) return '';
  const span = `t = ${inp.hold.from}…${inp.hold.to}`;
  // Each average with its 95 % interval over sequences when the report has one: "65% a > 1 (64–66%, n = 64)".
  const ci = (e: Estimate | null | undefined, show: (v: number) => string) =>
    e && typeof e.lo === 'number' && typeof e.hi === 'number' && Number.isFinite(e.lo) && Number.isFinite(e.hi)
      ? ` (${show(e.lo)}–${show(e.hi)}, n = ${e.n})`
      : e
        ? ` (n = ${e.n}, no interval)`
        : '';
  const parts = inp.holdAverages.map((h) => {
    const e = h.estimates;
    const bits = [
      h.fractionBistable !== null ? `${fmtPercent(h.fractionBistable)} a > 1${ci(e?.fractionBistable, (v) => fmtPercent(v))}` : '',
      h.fractionTrulyBistable !== null
        ? `${fmtPercent(h.fractionTrulyBistable)} truly bistable${ci(e?.fractionTrulyBistable, (v) => fmtPercent(v))}`
        : '',
      h.meanC !== null ? `mean gate ${fmt(h.meanC)}${ci(e?.meanC, (v) => fmt(v))}` : '',
    ].filter(Boolean);
    return `${layerLabel(h.layer, true)}: ${bits.join(', ')}`;
  });
  const intervals = inp.holdAverages.some((h) => h.estimates && Object.values(h.estimates).some((e) => e))
    ? ' (95 % intervals over sequences)'
    : '';
  return `Hold period (${span}, shaded)${inp.markers.length ? `, markers dashed` : ''}${intervals}: ${parts.join('; ')}.`;
}

export class InputAlignmentChart {
  readonly canvas = el('canvas', {
    attrs: {
      'data-role': 'input-channels',
      role: 'img',
      'aria-label': 'Input channels of the first sequence over time, with the task markers and hold period',
    },
  });
  readonly summary = el('p', { class: 'summary', attrs: { 'data-role': 'hold-summary' } });
  readonly el = el('div', { class: 'chart-box' }, [this.canvas]);

  /** Draws the channels (or hides the box when the report has no input view). */
  render(
    inp: InputAlignment | undefined,
    layers: readonly BistabilityLayer[],
    p: Palette,
    span: Plugin<'line' | 'scatter'>,
  ): LineChart | null {
    this.el.hidden = !inp || inp.channels.length === 0 || layers.length === 0;
    this.summary.textContent = holdSummary(inp);
    this.summary.hidden = !this.summary.textContent;
    if (this.el.hidden || !inp) return null;
    const data = inp.channels.map((ch, i) =>
      lineDataset(
        inp.names[i] ?? `x[${i}]`,
        ch.map((v, t): XY => ({ x: t, y: Number.isFinite(v) ? v : null })),
        seriesColor(p, i + 3),
      ),
    );
    return createChart(this.canvas, {
      type: 'line',
      data: { datasets: data },
      options: {
        scales: {
          x: { type: 'linear', title: { display: true, text: 'time step t' } },
          y: { type: 'linear', title: { display: true, text: 'input (first sequence)' } },
        },
        interaction: { mode: 'index', intersect: false },
      },
      plugins: [backgroundPlugin(() => toCss(p.bg)), span],
    });
  }
}
