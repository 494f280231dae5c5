/**
 * Memory retention on copy-first-input: MSE of recalling x_1 against the delay, and the linear probe's
 * R² for x_1 from h_t against t, with several runs/cells overlaid.
 */
import { backgroundPlugin, createChart, lineDataset, type LineChart, type XY } from '../charts';
import { el, section } from '../dom';
import { exportButtons } from '../export';
import { toCss } from '../lib/colormap';
import { retentionCsv } from '../lib/csv';
import { fill, seriesColor, ReportSectionView, LAYER_DASHES } from './common';
import type { View, ViewHost } from './types';


export class RetentionView extends ReportSectionView implements View {
  readonly el: HTMLElement;
  private readonly toolbar: HTMLElement;
  private readonly note = el('p', { class: 'caption' });
  private readonly mseCanvas = el('canvas', { attrs: { 'data-role': 'retention-mse', role: 'img', 'aria-label': 'Mean squared error of recalling the first input against the delay, per run' } });
  private readonly r2Canvas = el('canvas', { attrs: { 'data-role': 'retention-r2', role: 'img', 'aria-label': 'Probe R squared for the first input from h_t against t, per run and layer' } });
  private charts: LineChart[] = [];

  constructor(private readonly host: ViewHost) {
    super();
    const s = section('retention', 'Memory retention');
    this.el = s.root;
    this.toolbar = s.toolbar;
    s.body.append(this.note, el('div', { class: 'chart-row' }, [el('div', { class: 'chart-box' }, [this.mseCanvas]), el('div', { class: 'chart-box' }, [this.r2Canvas])]));
    this.el.hidden = true;
  }

  dispose(): void {
    for (const c of this.charts) c.destroy();
  }

  protected render(): void {
    for (const c of this.charts) c.destroy();
    this.charts = [];
    const p = this.host.palette();
    const withData = this.items.map((it, i) => ({ ...it, i })).filter((it) => it.report.retention);
    const missing = this.items.filter((it) => !it.report.retention).map((it) => it.label);
    this.note.textContent =
      (withData.length === 0 ? 'No retention data: the model is not a copy-first-input model (input size 1, one linear output). ' : 'Copy-first-input: lower MSE and higher R² mean x₁ is still in memory. ') +
      (missing.length && withData.length ? `Not available for: ${missing.join(', ')}.` : '');
    fill(this.toolbar, [
      exportButtons(
        () => this.host.exporter(),
        () => 'retention',
        () => [this.mseCanvas, this.r2Canvas],
        () => retentionCsv(this.items.map((it) => ({ label: it.label, retention: it.report.retention }))),
        () => toCss(this.host.palette().bg),
      ),
    ]);
    const bg = backgroundPlugin(() => toCss(this.host.palette().bg));
    const fin = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    const mse = withData.map((it) => {
      const r = it.report.retention!;
      const data: XY[] = r.delays.map((d, k) => ({ x: d, y: fin(r.mse[k]) }));
      return lineDataset(it.label, data, seriesColor(p, it.i), { pointRadius: 3 });
    });
    const r2 = withData.flatMap((it) =>
      it.report.retention!.probe.layers.map((L, k) =>
        lineDataset(`${it.label} · layer ${L.layer + 1}`, L.r2.map((v, t) => ({ x: t, y: fin(v) })), seriesColor(p, it.i), { borderDash: LAYER_DASHES[k % LAYER_DASHES.length] }),
      ),
    );
    this.charts.push(
      createChart(this.mseCanvas, {
        type: 'line',
        data: { datasets: mse },
        options: { scales: { x: { type: 'linear', title: { display: true, text: 'delay T (steps)' } }, y: { type: 'linear', min: 0, title: { display: true, text: 'MSE of x₁' } } } },
        plugins: [bg],
      }),
      createChart(this.r2Canvas, {
        type: 'line',
        data: { datasets: r2 },
        options: {
          scales: { x: { type: 'linear', title: { display: true, text: 't' } }, y: { type: 'linear', suggestedMin: 0, max: 1, title: { display: true, text: 'probe R² for x₁' } } },
          interaction: { mode: 'index', intersect: false },
        },
        plugins: [bg],
      }),
    );
    this.host.rendered('retention', { runs: withData.length, points: Number(this.mseCanvas.dataset.points ?? 0) + Number(this.r2Canvas.dataset.points ?? 0) });
  }
}
