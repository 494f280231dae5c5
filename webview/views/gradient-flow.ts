/**
 * Gradient flow: ‖∂L/∂h_t‖ per layer over time on a log scale (one series per layer), the Jacobian norm
 * ‖∂h_T/∂h_t‖, the fitted decay constant, and a per-neuron heatmap of |∂L/∂h_{t,j}|. With several runs
 * (compare), "Overlay runs" draws every run's layers on the same two charts (BRC against GRU at a glance).
 */
import { explodingGradients } from '../../core/diagnostics/sentences';
import type { DecayFit, DiagnosticReport, GradientFlowLayer } from '../../core/diagnostics/types';
import { backgroundPlugin, createChart, lineDataset, logScale, type LineChart, type XY } from '../charts';
import { checkbox, el, section, select } from '../dom';
import { exportButtons } from '../export';
import { Heatmap } from '../heatmap';
import { sequentialScale, toCss } from '../lib/colormap';
import { gradientFlowCsv } from '../lib/csv';
import { fmt } from '../lib/format';
import { matrixFromTimeMajor, quantile } from '../lib/heatmap-core';
import { clampIndex, fill, LAYER_DASHES, layerOptions, runSelect, seriesColor, ReportSectionView } from './common';
import type { View, ViewHost } from './types';
import { layerLabel, power } from '../../core/diagnostics/labels';

/** Label suffix of a band's lower edge (hidden from the legend). */
const BAND_LOW = ' interval low';

interface Series {
  label: string;
  L: GradientFlowLayer;
  /** Palette series index. */
  color: number;
  dash: number[];
}

interface UiState {
  run?: number;
  layer?: number;
  /** Compare: all runs' series on the charts (default on). */
  overlay?: boolean;
}

/** What the loss gradient does over the T steps, in the sentence's terms (no length beyond the data). */
export function describeDecay(L: GradientFlowLayer): string {
  const d: DecayFit = L.decay;
  const T = L.norm.length;
  const range = d.dynamicRange > 0 ? `, range ${power(10, Math.log10(d.dynamicRange))}` : '';
  const ratio = d.endRatio ? ` (t = 0 / end: ${fmt(d.endRatio.value)})` : '';
  const kind =
    d.kind === 'decay'
      ? `falls going back over the ${T} steps${ratio}`
      : d.kind === 'exploding'
        ? `grows backward in time${ratio}${explodingGradients(L) ? ' (exploding)' : ''}`
        : `no decay over the ${T} steps${ratio}`;
  const flags = [L.vanishing ? 'vanishing' : '', L.exploding ? 'exploding' : ''].filter(Boolean).join(', ');
  return `${layerLabel(L.layer)}: ${kind}${range}${flags ? ` — ${flags}` : ''}`;
}

export class GradientFlowView extends ReportSectionView implements View {
  readonly el: HTMLElement;
  private readonly toolbar: HTMLElement;
  private readonly normCanvas = el('canvas', {
    attrs: {
      'data-role': 'gradient-norm',
      role: 'img',
      'aria-label': 'Norm of the loss gradient with respect to h_t per layer, log scale',
    },
  });
  private readonly jacCanvas = el('canvas', {
    attrs: { 'data-role': 'gradient-jacobian', role: 'img', 'aria-label': 'Spectral norm of dh_T/dh_t per layer, log scale' },
  });
  private readonly decay = el('ul', { class: 'decay-list' });
  private readonly heatTitle = el('h3');
  private readonly heatmap: Heatmap;
  private charts: LineChart[] = [];
  private ui: UiState;
  private hm: { L: GradientFlowLayer; units: number } | null = null;

  constructor(private readonly host: ViewHost) {
    super();
    this.ui = host.getState<UiState>('gradientFlow') ?? {};
    const s = section('gradientFlow', 'Gradient flow');
    this.el = s.root;
    this.toolbar = s.toolbar;
    this.heatmap = new Heatmap({
      label: 'Heatmap of the mean absolute gradient per neuron (rows) and time step (columns), log colour scale',
      describe: (c) => {
        const L = this.hm?.L;
        const v = L?.perNeuron[c.col]?.[c.row];
        return L ? `${layerLabel(L.layer)} · neuron ${c.row} · t = ${c.col}\nmean |∂L/∂h| = ${fmt(typeof v === 'number' ? v : NaN)}` : '';
      },
      colors: () => {
        const p = this.host.palette();
        return { mark: toCss(p.fg), select: toCss(p.focus), hover: toCss(p.fg) };
      },
      maxHeight: 260,
    });
    this.heatmap.onPaint = () => this.reportStatus();
    s.body.append(
      el('div', { class: 'chart-row' }, [
        el('div', { class: 'chart-box wide' }, [this.normCanvas]),
        el('div', { class: 'chart-box' }, [this.jacCanvas]),
      ]),
      this.decay,
      this.heatTitle,
      this.heatmap.el,
    );
    this.el.hidden = true;
  }

  dispose(): void {
    this.heatmap.dispose();
    for (const c of this.charts) c.destroy();
  }

  private get report(): DiagnosticReport | null {
    return this.items[clampIndex(this.ui.run, this.items.length)]?.report ?? null;
  }

  private change(patch: Partial<UiState>): void {
    this.ui = { ...this.ui, ...patch };
    this.host.setState('gradientFlow', this.ui);
    this.render();
  }

  protected render(): void {
    const r = this.report;
    if (!r) return;
    const layers = r.gradientFlow.layers;
    const li = clampIndex(this.ui.layer, layers.length);
    fill(this.toolbar, [
      runSelect(this.items, clampIndex(this.ui.run, this.items.length), (i) => this.change({ run: i })),
      this.items.length > 1 ? checkbox('Overlay runs', this.overlay, (v) => this.change({ overlay: v })) : null,
      layers.length > 1 ? select('Heatmap layer', layerOptions(layers, false), String(li), (v) => this.change({ layer: Number(v) })) : null,
      exportButtons(
        () => this.host.exporter(),
        () => `gradient flow ${this.items[clampIndex(this.ui.run, this.items.length)]?.label ?? ''}`,
        () => [this.normCanvas, this.jacCanvas, [this.heatmap.base, this.heatmap.overlay]],
        () => gradientFlowCsv(r.gradientFlow),
        () => toCss(this.host.palette().bg),
      ),
    ]);
    this.renderCharts(this.chartSeries(layers));
    fill(
      this.decay,
      layers.map((L) => el('li', { class: L.vanishing || L.exploding ? 'warning' : '', text: describeDecay(L) })),
    );
    const L = layers[li];
    this.heatTitle.textContent = L ? `${layerLabel(L.layer)}: mean |∂L/∂h_t| per neuron (log colour scale)` : '';
    if (L) this.paintHeatmap(L, r.bistability.layers[li]?.units ?? L.perNeuron[0]?.length ?? 0);
    else this.heatmap.setData(null);
  }

  private get overlay(): boolean {
    return this.items.length > 1 && this.ui.overlay !== false;
  }

  /**
   * The charts' series: the selected run's layers (a colour each), or every run's layers when overlaid
   * (a colour per run, a dash per layer, as in retention).
   */
  private chartSeries(layers: GradientFlowLayer[]): Series[] {
    if (!this.overlay) return layers.map((L, i) => ({ label: `${layerLabel(L.layer, true)}`, L, color: i, dash: [] }));
    return this.items.flatMap((it, r) =>
      it.report.gradientFlow.layers.map((L, k) => ({
        label: `${it.label} · ${layerLabel(L.layer, true)}`,
        L,
        color: r,
        dash: LAYER_DASHES[k % LAYER_DASHES.length],
      })),
    );
  }

  private renderCharts(series: Series[]): void {
    for (const c of this.charts) c.destroy();
    const p = this.host.palette();
    const ds = (s: Series, values: readonly (number | null)[]) =>
      lineDataset(s.label, pos(values), seriesColor(p, s.color), { borderDash: s.dash });
    const bg = backgroundPlugin(() => toCss(this.host.palette().bg));
    const pos = (arr: readonly (number | null)[]): XY[] =>
      arr.map((v, t) => ({ x: t, y: typeof v === 'number' && v > 0 && Number.isFinite(v) ? v : null }));
    const opts = (ytitle: string) => ({
      scales: {
        x: { type: 'linear' as const, title: { display: true, text: 't' } },
        y: { ...logScale, title: { display: true, text: ytitle } },
      },
      interaction: { mode: 'index' as const, intersect: false },
    });
    this.charts = [
      createChart(this.normCanvas, {
        type: 'line',
        data: { datasets: series.map((s) => ds(s, s.L.norm)) },
        options: opts('‖∂L/∂h_t‖'),
        plugins: [bg],
      }),
      createChart(this.jacCanvas, {
        type: 'line',
        data: { datasets: series.flatMap((s) => [ds(s, s.L.jacobianNorm), ...this.band(s, pos)]) },
        options: {
          ...opts(
            series.some((s) => s.L.jacobianLowerBound) ? '‖∂h_T/∂h_t‖ (median; a lower bound)' : '‖∂h_T/∂h_t‖ (median over sequences)',
          ),
          plugins: { legend: { labels: { filter: (item: { text: string }) => !item.text.endsWith(BAND_LOW) } } },
        },
        plugins: [bg],
      }),
    ];
  }

  /** The 95 % interval of ‖∂h_T/∂h_t‖ as a shaded band (two datasets, the upper one filled down to the lower). */
  private band(s: Series, pos: (arr: readonly (number | null)[]) => XY[]): ReturnType<typeof lineDataset>[] {
    const J = s.L.jacobian;
    if (!J) return [];
    const p = this.host.palette();
    const color = seriesColor(p, s.color);
    const lo = J.map((e) => (typeof e.lo === 'number' && Number.isFinite(e.lo) ? e.lo : null));
    const hi = J.map((e) => (typeof e.hi === 'number' && Number.isFinite(e.hi) ? e.hi : null));
    const none = { borderWidth: 0, pointHitRadius: 0 };
    return [
      lineDataset(`${s.label}${BAND_LOW}`, pos(lo), color, { ...none, fill: false }),
      lineDataset(`${s.label}: 95 % interval`, pos(hi), color, {
        ...none,
        fill: '-1',
        backgroundColor: toCss(p.series[s.color % p.series.length], 0.15),
      }),
    ];
  }

  private paintHeatmap(L: GradientFlowLayer, units: number): void {
    const T = L.perNeuron.length;
    const values = matrixFromTimeMajor(L.perNeuron, units, (v) => (v > 0 ? Math.log10(v) : NaN));
    let lo = quantile(values, 0.01);
    let hi = quantile(values, 0.99);
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) lo = hi = 0;
    if (hi - lo < 1e-6) hi = lo + 1;
    const p = this.host.palette();
    this.hm = { L, units };
    this.heatmap.setData({
      values,
      rows: units,
      cols: T,
      scale: sequentialScale(p.heatMid, p.blue, lo, hi),
      background: p.bg,
      axes: { x: 'time step t', y: 'neuron' },
    });
  }

  private reportStatus(): void {
    const r = this.report;
    if (!r) return;
    const pi = this.heatmap.lastPaint;
    this.host.rendered('gradientFlow', {
      series: this.normCanvas.dataset.series ?? r.gradientFlow.layers.length,
      points: this.normCanvas.dataset.points ?? 0,
      cells: pi.cells,
      painted: pi.painted,
    });
  }
}
