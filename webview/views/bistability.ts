/**
 * Bistability map: a heatmap of layer × neuron × time coloured by the feedback gain a_t (diverging at
 * a = 1, where a neuron becomes able to hold a bit), or by branch, h or the update gate; flips overlaid;
 * hover for values; click (or arrows) to open a neuron's trajectory and fixed-point diagram; per-layer
 * fraction bistable and mean gate over time.
 */
import type { BistabilityLayer, DiagnosticReport, StepIntervals } from '../../core/diagnostics/types';

/** Legend-hidden suffix of the interval band datasets. */
const BAND = ' (95 % interval)';
import { createChart, lineDataset, backgroundPlugin, type LineChart, type XY } from '../charts';
import { checkbox, el, section, select, type Option } from '../dom';
import { exportButtons } from '../export';
import { Heatmap, type Cell } from '../heatmap';
import { divergingScale, sequentialScale, toCss, type ColorScale } from '../lib/colormap';
import { bistabilityCsv, bistabilityFractionsCsv } from '../lib/csv';
import { CARRIER_COLUMNS, carrierCaption, carrierOf, carrierSpans, carrierTableRows, targetLabel } from '../lib/memory-carriers';
import { cellLabel, fmt, fmtPercent } from '../lib/format';
import { matrixFromTimeMajor, quantile, stackRows } from '../lib/heatmap-core';
import { clampIndex, fill, layerOptions, runSelect, seriesColor, ReportSectionView } from './common';
import { InputAlignmentChart, spanColors, taskSpanPlugin } from './input-alignment';
import { NeuronDetail } from './neuron-detail';
import type { View, ViewHost } from './types';
import { layerLabel } from '../../core/diagnostics/labels';

type ColorBy = 'a' | 'branch' | 'h' | 'c' | 'u';

interface UiState {
  run?: number;
  layer?: string;
  colorBy?: ColorBy;
  flips?: boolean;
  sel?: { layer: number; neuron: number; t: number };
}

interface RowInfo {
  li: number;
  j: number;
}

const num = (v: number | null | undefined): number => (typeof v === 'number' ? v : NaN);

export class BistabilityView extends ReportSectionView implements View {
  readonly el: HTMLElement;
  private readonly toolbar: HTMLElement;
  private readonly legend = el('div', { class: 'legend' });
  private readonly summary = el('p', { class: 'summary' });
  private readonly carriers = el('div', { class: 'memory-carriers', attrs: { 'data-role': 'memory-carriers' } });
  private readonly heatmap: Heatmap;
  private readonly detail: NeuronDetail;
  private readonly fracCanvas = el('canvas', {
    attrs: { 'data-role': 'fraction-bistable', role: 'img', 'aria-label': 'Fraction of neurons bistable over time, per layer' },
  });
  private readonly gateCanvas = el('canvas', {
    attrs: { 'data-role': 'mean-gate', role: 'img', 'aria-label': 'Mean update gate over time, per layer' },
  });
  private readonly gateBox = el('div', { class: 'chart-box' }, [this.gateCanvas]);
  /** Figure 3: input channels, markers and hold period aligned with the two charts below. */
  private readonly inputChart = new InputAlignmentChart();
  private charts: LineChart[] = [];
  private ui: UiState;
  private shown: BistabilityLayer[] = [];
  private offsets: number[] = [];
  private rowInfo: (RowInfo | null)[] = [];

  constructor(private readonly host: ViewHost) {
    super();
    this.ui = host.getState<UiState>('bistability') ?? {};
    const s = section('bistability', 'Bistability map');
    this.el = s.root;
    this.toolbar = s.toolbar;
    this.heatmap = new Heatmap({
      label: 'Heatmap of the feedback gain a per neuron (rows, grouped by layer) and time step (columns)',
      describe: (c) => this.describe(c),
      onSelect: (c) => this.select(c),
      onHover: (c) => {
        if (c) this.detail.setTime(c.col);
        else if (this.ui.sel) this.detail.setTime(this.ui.sel.t);
      },
      colors: () => {
        const p = this.host.palette();
        return { mark: toCss(p.fg), select: toCss(p.focus), hover: toCss(p.fg) };
      },
    });
    this.heatmap.onPaint = () => this.reportStatus();
    this.detail = new NeuronDetail(host, (t) => {
      const sel = this.heatmap.getSelection();
      if (sel) this.heatmap.setSelection({ row: sel.row, col: t });
      this.detail.setTime(t);
    });
    s.body.append(
      this.legend,
      this.heatmap.el,
      this.summary,
      this.carriers,
      this.detail.el,
      this.inputChart.el,
      el('div', { class: 'chart-row' }, [el('div', { class: 'chart-box' }, [this.fracCanvas]), this.gateBox]),
      this.inputChart.summary,
    );
    this.el.hidden = true;
  }

  dispose(): void {
    this.heatmap.dispose();
    this.detail.dispose();
    for (const c of this.charts) c.destroy();
  }

  private get report(): DiagnosticReport | null {
    return this.items[clampIndex(this.ui.run, this.items.length)]?.report ?? null;
  }

  private save(): void {
    this.host.setState('bistability', this.ui);
  }

  protected render(): void {
    const r = this.report;
    if (!r) return;
    const layers = r.bistability.layers;
    // A report diagnosed without this section (diagnose --sections retention) has no layers to show.
    if (layers.length === 0) {
      this.el.hidden = true;
      return;
    }
    const layerSel =
      this.ui.layer === 'all' || this.ui.layer === undefined
        ? layers.length > 1
          ? 'all'
          : '0'
        : String(clampIndex(Number(this.ui.layer), layers.length));
    this.shown = layerSel === 'all' ? layers : [layers[Number(layerSel)]];
    const hasC = layers.some((l) => l.c);
    const hasU = layers.some((l) => l.drive);
    let colorBy: ColorBy = this.ui.colorBy ?? 'a';
    if ((colorBy === 'c' && !hasC) || (colorBy === 'u' && !hasU)) colorBy = 'a';
    const colorOpts: Option[] = [
      { value: 'a', label: 'Feedback gain a' },
      { value: 'branch', label: 'Branch (±)' },
      { value: 'h', label: 'State h' },
      ...(hasC ? [{ value: 'c', label: 'Update gate' }] : []),
      ...(hasU ? [{ value: 'u', label: 'Input drive u' }] : []),
    ];
    fill(this.toolbar, [
      runSelect(this.items, clampIndex(this.ui.run, this.items.length), (i) => this.change({ run: i, sel: undefined })),
      select('Layer', layerOptions(layers, true), layerSel, (v) => this.change({ layer: v, sel: undefined })),
      select('Colour', colorOpts, colorBy, (v) => this.change({ colorBy: v as ColorBy })),
      checkbox('Flips', this.ui.flips !== false, (v) => this.change({ flips: v })),
      exportButtons(
        () => this.host.exporter(),
        () => `bistability ${this.items[clampIndex(this.ui.run, this.items.length)]?.label ?? ''}`,
        () => [
          [this.heatmap.base, this.heatmap.overlay],
          ...this.detail.canvases(),
          ...(this.inputChart.el.hidden ? [] : [this.inputChart.canvas]),
          this.fracCanvas,
          ...(this.gateBox.hidden ? [] : [this.gateCanvas]),
        ],
        () => bistabilityCsv(this.shown),
        () => toCss(this.host.palette().bg),
        [
          {
            label: 'Export fractions CSV',
            title: 'Save fraction bistable and mean gate per layer and step, with their 95 % intervals, as CSV',
            suffix: 'fractions',
            csv: () => bistabilityFractionsCsv(this.shown),
          },
        ],
      ),
    ]);
    this.paintHeatmap(colorBy);
    this.renderSummary();
    this.renderCarriers();
    this.renderCharts(layers);
    this.restoreSelection();
  }

  private change(patch: Partial<UiState>): void {
    this.ui = { ...this.ui, ...patch };
    if ('sel' in patch && !patch.sel) this.detail.hide();
    this.save();
    this.render();
  }

  /** The colour scale for `colorBy`, with tick labels under the legend bar and words for its two ends. */
  private scaleFor(colorBy: ColorBy, values: Float32Array): { scale: ColorScale; ticks: [string, string, string]; ends: [string, string] } {
    const p = this.host.palette();
    const m = p.heatMid;
    switch (colorBy) {
      case 'a': {
        const gainOnly = this.shown.every((l) => l.method === 'gain');
        let d = 1;
        if (!gainOnly) {
          const dev = values.map((v) => Math.abs(v - 1));
          d = Math.max(1, quantile(dev, 0.99) || 1);
        }
        return {
          scale: divergingScale(p.blue, m, p.red, 1, d),
          ticks: [`a = ${fmt(1 - d)}`, '1', fmt(1 + d)],
          ends: ['monostable', 'a > 1: can hold a bit'],
        };
      }
      case 'branch':
        return {
          scale: divergingScale(p.purple, m, p.green, 0, 1),
          ticks: ['−', '', '+'],
          ends: ['lower branch', 'upper branch (pale: a ≤ 1)'],
        };
      case 'h':
        return { scale: divergingScale(p.blue, m, p.orange, 0, 1), ticks: ['h = −1', '0', '+1'], ends: ['', ''] };
      case 'c':
        return { scale: sequentialScale(m, p.purple, 0, 1), ticks: ['gate 0', '0.5', '1'], ends: ['overwrite', 'hold'] };
      case 'u': {
        const d = Math.max(1e-6, quantile(values.map(Math.abs), 0.99) || 1);
        return { scale: divergingScale(p.blue, m, p.orange, 0, d), ticks: [`u = ${fmt(-d)}`, '0', fmt(d)], ends: ['', ''] };
      }
    }
  }

  private paintHeatmap(colorBy: ColorBy): void {
    const T = Math.max(0, ...this.shown.map((l) => l.T));
    const mats = this.shown.map((L) => {
      let src: readonly (readonly (number | null)[])[] | null = L.a;
      let map: ((v: number, t: number, j: number) => number) | undefined;
      if (colorBy === 'branch') {
        src = L.branch;
        map = (v, t, j) => v * (L.bistable[t]?.[j] ? 1 : 0.35);
      } else if (colorBy === 'h') src = L.h;
      else if (colorBy === 'c') src = L.c;
      else if (colorBy === 'u') src = L.drive;
      const values = src ? matrixFromTimeMajor(src, L.units, map) : new Float32Array(L.units * T).fill(NaN);
      return { values: padCols(values, L.units, L.T, T), rows: L.units };
    });
    const gap = this.shown.length > 1 ? 1 : 0;
    const stack = stackRows(mats, T, gap);
    this.offsets = stack.offsets;
    this.rowInfo = new Array(stack.rows).fill(null);
    this.shown.forEach((L, li) => {
      for (let j = 0; j < L.units; j++) this.rowInfo[stack.offsets[li] + j] = { li, j };
    });
    const { scale, ticks, ends } = this.scaleFor(colorBy, stack.values);
    this.renderLegend(scale, ticks, ends);
    const p = this.host.palette();
    const axes = {
      x: 'time step t',
      y: 'neuron',
      segments: this.shown.map((L, li) => ({ start: stack.offsets[li], count: L.units })),
    };
    this.heatmap.setData({
      values: stack.values,
      rows: stack.rows,
      cols: T,
      scale,
      background: p.bg,
      isGap: (r) => this.rowInfo[r] === null,
      axes,
    });
    const marks: Cell[] = [];
    if (this.ui.flips !== false) {
      this.shown.forEach((L, li) => {
        for (const f of L.flips) if (marks.length < 50_000) marks.push({ row: stack.offsets[li] + f.neuron, col: f.t });
      });
    }
    this.heatmap.setMarks(marks);
    this.heatmap.setRowMarks(
      carrierSpans(
        this.report?.memory,
        this.shown.map((L) => L.layer),
        stack.offsets,
      ),
    );
  }

  /** The memory carriers table (strongest first); a row opens that neuron like a click on the heatmap. */
  private renderCarriers(): void {
    const m = this.report?.memory;
    this.carriers.hidden = !m;
    if (!m) return;
    const rows = carrierTableRows(m);
    const table = rows.length
      ? el('table', { class: 'carriers-table' }, [
          el('thead', {}, [
            el(
              'tr',
              {},
              CARRIER_COLUMNS.map((h) => el('th', { text: h })),
            ),
          ]),
          el(
            'tbody',
            {},
            rows.map((cells, i) => {
              const c = m.carriers[i];
              const tr = el(
                'tr',
                { attrs: { tabindex: '0', 'data-carrier': `${c.layer}:${c.neuron}`, title: 'Open this neuron' } },
                cells.map((v) => el('td', { text: v })),
              );
              tr.addEventListener('click', () => this.openNeuron(c.layer, c.neuron, c.to));
              tr.addEventListener('keydown', (e) => {
                if (e.key === 'Enter' || e.key === ' ') {
                  e.preventDefault();
                  this.openNeuron(c.layer, c.neuron, c.to);
                }
              });
              return tr;
            }),
          ),
        ])
      : null;
    fill(this.carriers, [el('h3', { text: 'Memory carriers' }), el('p', { class: 'caption', text: carrierCaption(m) }), table]);
  }

  /** Selects (layer, neuron) at step t, showing its layer first when another single layer is shown. */
  private openNeuron(layer: number, neuron: number, t: number): void {
    if (!this.shown.some((L) => L.layer === layer)) this.ui = { ...this.ui, layer: 'all' };
    this.ui = { ...this.ui, sel: { layer, neuron, t } };
    this.save();
    this.render();
  }

  private renderLegend(scale: ColorScale, ticks: [string, string, string], ends: [string, string]): void {
    const bar = el('canvas', { class: 'legend-bar', attrs: { 'aria-hidden': 'true' } });
    bar.width = scale.n;
    bar.height = 1;
    const ctx = bar.getContext('2d');
    if (ctx) {
      const img = ctx.createImageData(scale.n, 1);
      img.data.set(scale.lut);
      ctx.putImageData(img, 0, 0);
    }
    const flips = this.ui.flips !== false ? el('span', { class: 'legend-note', text: '▬ flip (branch change)' }) : null;
    fill(this.legend, [
      ends[0] ? el('span', { text: ends[0] }) : null,
      el('span', { class: 'legend-scale' }, [
        bar,
        el(
          'span',
          { class: 'legend-ticks' },
          ticks.map((t) => el('span', { text: t })),
        ),
      ]),
      ends[1] ? el('span', { text: ends[1] }) : null,
      flips,
    ]);
  }

  private renderSummary(): void {
    const parts = this.shown.map((L) => {
      let bist = 0;
      let n = 0;
      for (const row of L.bistable)
        for (const v of row) {
          n++;
          bist += v ? 1 : 0;
        }
      return `${layerLabel(L.layer)} (${cellLabel(L.cell)}, ${L.units} units, ${L.method === 'gain' ? 'gain a_t' : 'self-map slope'}): ${fmtPercent(n ? bist / n : NaN)} of neuron-steps with a > 1, ${L.flips.length} flip${L.flips.length === 1 ? '' : 's'}`;
    });
    this.summary.textContent = parts.join(' · ') + '. Click a neuron (or use the arrow keys) to see its trajectory and fixed points.';
  }

  private renderCharts(layers: BistabilityLayer[]): void {
    for (const c of this.charts) c.destroy();
    this.charts = [];
    const p = this.host.palette();
    const bg = backgroundPlugin(() => toCss(this.host.palette().bg));
    const span = taskSpanPlugin(
      () => this.report?.bistability.input,
      () => spanColors(this.host.palette()),
    );
    const inputChart = this.inputChart.render(this.report?.bistability.input, layers, p, span);
    if (inputChart) this.charts.push(inputChart);
    const ts = (arr: readonly (number | null)[]): XY[] =>
      arr.map((v, t) => ({ x: t, y: typeof v === 'number' && Number.isFinite(v) ? v : null }));
    // 95 % intervals over sequences as shaded bands (two datasets, the upper filled down to the lower).
    const band = (label: string, iv: StepIntervals | null | undefined, i: number) => {
      if (!iv) return [];
      const none = { borderWidth: 0, pointHitRadius: 0 };
      const fillColor = toCss(p.series[i % p.series.length], 0.15);
      return [
        lineDataset(`${label}${BAND}`, ts(iv.lo), seriesColor(p, i), { ...none, fill: false }),
        lineDataset(`${label}${BAND}`, ts(iv.hi), seriesColor(p, i), { ...none, fill: '-1', backgroundColor: fillColor }),
      ];
    };
    const legend = { labels: { filter: (item: { text: string }) => !item.text.endsWith(BAND) } };
    const frac = layers.flatMap((L, i) => [
      lineDataset(`${layerLabel(L.layer, true)}: a > 1`, ts(L.fractionBistable), seriesColor(p, i)),
      lineDataset(`${layerLabel(L.layer, true)}: three fixed points`, ts(L.fractionTrulyBistable), seriesColor(p, i), {
        borderDash: [4, 3],
      }),
      ...band(`${layerLabel(L.layer, true)}: a > 1`, L.intervals?.fractionBistable, i),
    ]);
    this.charts.push(
      createChart(this.fracCanvas, {
        type: 'line',
        data: { datasets: frac },
        options: {
          scales: {
            x: { type: 'linear', title: { display: true, text: 'time step t' } },
            y: { type: 'linear', min: 0, max: 1, title: { display: true, text: 'fraction bistable' } },
          },
          interaction: { mode: 'index', intersect: false },
          plugins: { legend },
        },
        plugins: [bg, span],
      }),
    );
    const gated = layers.filter((L) => L.meanC);
    this.gateBox.hidden = gated.length === 0;
    if (gated.length) {
      this.charts.push(
        createChart(this.gateCanvas, {
          type: 'line',
          data: {
            datasets: layers.flatMap((L, i) =>
              L.meanC
                ? [
                    lineDataset(`${layerLabel(L.layer, true)}`, ts(L.meanC), seriesColor(p, i)),
                    ...band(layerLabel(L.layer, true), L.intervals?.meanC, i),
                  ]
                : [],
            ),
          },
          options: {
            scales: {
              x: { type: 'linear', title: { display: true, text: 'time step t' } },
              y: { type: 'linear', min: 0, max: 1, title: { display: true, text: 'mean update gate' } },
            },
            interaction: { mode: 'index', intersect: false },
            plugins: { legend },
          },
          plugins: [bg, span],
        }),
      );
    }
  }

  private describe(c: Cell): string {
    const info = this.rowInfo[c.row];
    if (!info) return '';
    const L = this.shown[info.li];
    const { j } = info;
    const t = c.col;
    if (t >= L.T) return `${layerLabel(L.layer)} · neuron ${j} · t = ${t}: no data`;
    const a = num(L.a[t]?.[j]);
    const lines = [
      `${layerLabel(L.layer)} · neuron ${j} · t = ${t}`,
      `a = ${fmt(a)}${L.bistable[t]?.[j] ? ' (a > 1)' : ''} · ${L.fixedPoints[t]?.[j] ?? '–'} fixed point(s)`,
      `h = ${fmt(num(L.h[t]?.[j]))} · branch ${fmtBranch(L.branch[t]?.[j])}`,
    ];
    const extra: string[] = [];
    if (L.c) extra.push(`gate = ${fmt(num(L.c[t]?.[j]))}`);
    if (L.drive) extra.push(`u = ${fmt(num(L.drive[t]?.[j]))}`);
    if (extra.length) lines.push(extra.join(' · '));
    const mc = this.carrierFor(L.layer, j);
    if (mc)
      lines.push(
        `memory carrier of ${targetLabel(mc.memory, mc.carrier.component)} from t = ${mc.carrier.from} to ${mc.carrier.to} (score ${fmt(mc.carrier.score)})`,
      );
    else if (this.report?.memory?.layers.find((m) => m.layer === L.layer)?.carrierNeurons.includes(j))
      lines.push('memory carrier (weaker than the listed ones)');
    return lines.join('\n');
  }

  private select(c: Cell): void {
    const info = this.rowInfo[c.row];
    if (!info) return;
    const L = this.shown[info.li];
    this.ui = { ...this.ui, sel: { layer: L.layer, neuron: info.j, t: Math.min(c.col, L.T - 1) } };
    this.save();
    this.detail.show(L, info.j, c.col, false, this.carrierFor(L.layer, info.j));
    this.reportStatus();
  }

  private restoreSelection(): void {
    const sel = this.ui.sel;
    const li = sel ? this.shown.findIndex((l) => l.layer === sel.layer) : -1;
    if (!sel || li < 0 || sel.neuron >= this.shown[li].units) {
      this.heatmap.setSelection(null);
      this.detail.hide();
      return;
    }
    this.heatmap.setSelection({ row: this.offsets[li] + sel.neuron, col: sel.t });
    this.detail.show(this.shown[li], sel.neuron, sel.t, true, this.carrierFor(sel.layer, sel.neuron));
  }

  private carrierFor(layer: number, neuron: number) {
    const m = this.report?.memory;
    const c = carrierOf(m, layer, neuron);
    return c && m ? { carrier: c, memory: m } : undefined;
  }

  private reportStatus(): void {
    const pi = this.heatmap.lastPaint;
    const cells = this.shown.reduce((s, L) => s + L.units * L.T, 0);
    const sel = this.ui.sel;
    this.host.rendered('bistability', {
      layers: this.shown.length,
      cells,
      painted: pi.painted,
      ms: Math.round(pi.ms),
      ...(sel ? { selected: `${sel.layer}:${sel.neuron}` } : {}),
    });
  }
}

function fmtBranch(b: number | null | undefined): string {
  return b === 1 ? '+' : b === -1 ? '−' : b === 0 ? '0' : '–';
}

/** Pads rows of length `T` to `cols` columns with NaN (layers with fewer steps). */
function padCols(v: Float32Array, rows: number, T: number, cols: number): Float32Array {
  if (T === cols) return v;
  const out = new Float32Array(rows * cols).fill(NaN);
  for (let r = 0; r < rows; r++) out.set(v.subarray(r * T, r * T + T), r * cols);
  return out;
}
