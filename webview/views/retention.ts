/**
 * Memory retention on copy-first-input: MSE of recalling x_1 against the delay, and the linear probe's
 * R² for x_1 from h_t against the time step, with several runs/cells overlaid. Where the report has them,
 * 95 % intervals are drawn as shaded bands, the batch's chance level as a flat line, and the model's own
 * readout R² (a lower bound for the probe of the last layer) as a dotted line.
 */
import { backgroundPlugin, createChart, lineDataset, type LineChart, type XY } from '../charts';
import { el, section } from '../dom';
import { exportButtons } from '../export';
import { toCss } from '../lib/colormap';
import { retentionCsv } from '../lib/csv';
import { probeTimeSteps, RETENTION_AXES } from '../lib/retention-axes';
import { formatEstimate, type Estimate } from '../../core/diagnostics/stats';
import { retentionNeeds } from '../../core/diagnostics/retention-needs';
import type { Architecture } from '../../core/model/architecture';
import { fill, seriesColor, ReportSectionView, LAYER_DASHES } from './common';
import type { View, ViewHost } from './types';
import { layerLabel } from '../../core/diagnostics/labels';

/** Marks the datasets of interval bands, which the legend leaves out. */
const BAND = ' (95 % interval)';

/** Two datasets whose fill between them shades the 95 % interval of each estimate (unbounded ends: gaps). */
function intervalBand(label: string, xs: readonly number[], est: readonly Estimate[], color: string): ReturnType<typeof lineDataset>[] {
  const end = (v: number) => (Number.isFinite(v) ? v : null);
  const style = { borderWidth: 0, pointHitRadius: 0 };
  return [
    lineDataset(
      label + BAND,
      xs.map((x, i) => ({ x, y: end(est[i].lo) })),
      color,
      { ...style, fill: false },
    ),
    lineDataset(
      label + BAND,
      xs.map((x, i) => ({ x, y: end(est[i].hi) })),
      color,
      { ...style, fill: '-1', backgroundColor: color },
    ),
  ];
}

export class RetentionView extends ReportSectionView implements View {
  readonly el: HTMLElement;
  private readonly toolbar: HTMLElement;
  private readonly note = el('p', { class: 'caption' });
  private readonly mseCanvas = el('canvas', {
    attrs: {
      'data-role': 'retention-mse',
      role: 'img',
      'aria-label': 'Mean squared error of recalling the first input against the delay, per run',
    },
  });
  private readonly r2Canvas = el('canvas', {
    attrs: {
      'data-role': 'retention-r2',
      role: 'img',
      'aria-label': 'Probe R squared for the first input from h_t against the time step t, per run and layer',
    },
  });
  private charts: LineChart[] = [];

  constructor(private readonly host: ViewHost) {
    super();
    const s = section('retention', 'Memory retention');
    this.el = s.root;
    this.toolbar = s.toolbar;
    s.body.append(
      this.note,
      el('div', { class: 'chart-row' }, [
        el('div', { class: 'chart-box' }, [this.mseCanvas]),
        el('div', { class: 'chart-box' }, [this.r2Canvas]),
      ]),
    );
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
    this.note.textContent = [
      withData.length === 0
        ? noRetentionText(this.items.map((it) => it.report.model.architecture))
        : 'Copy-first-input: lower MSE and higher R² mean x₁ is still in memory.',
      missing.length && withData.length ? `Not available for: ${missing.join(', ')}.` : '',
      ...withData
        .filter((it) => it.report.retention!.chance)
        .map(
          (it) =>
            `${withData.length > 1 ? `${it.label}: c` : 'C'}hance on this batch (MSE of the best constant guess): ${formatEstimate(it.report.retention!.chance!)}.`,
        ),
      withData.some((it) => it.report.retention!.mseEstimate) ? 'Shaded: 95 % intervals across the retention batch.' : '',
    ]
      .filter(Boolean)
      .join(' ');
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
    const shade = (i: number) => toCss(p.series[i % p.series.length], 0.15);
    const mse = withData.flatMap((it) => {
      const r = it.report.retention!;
      const data: XY[] = r.delays.map((d, k) => ({ x: d, y: fin(r.mse[k]) }));
      const sets = [lineDataset(it.label, data, seriesColor(p, it.i), { pointRadius: 3 })];
      if (r.mseEstimate) sets.push(...intervalBand(it.label, r.delays, r.mseEstimate, shade(it.i)));
      if (r.chance && r.delays.length) {
        const chance = [r.delays[0], r.delays[r.delays.length - 1]].map((x) => ({ x, y: fin(r.chance!.value) }));
        sets.push(lineDataset(`${it.label} · chance on this batch`, chance, seriesColor(p, it.i), { borderDash: [2, 4], borderWidth: 1 }));
      }
      return sets;
    });
    const r2 = withData.flatMap((it) => {
      const pr = it.report.retention!.probe;
      const xs = probeTimeSteps(pr);
      const sets = pr.layers.flatMap((L, k) => {
        const label = `${it.label} · ${layerLabel(L.layer, true)}`;
        const line = lineDataset(
          label,
          L.r2.map((v, i) => ({ x: xs[i], y: fin(v) })),
          seriesColor(p, it.i),
          { borderDash: LAYER_DASHES[k % LAYER_DASHES.length] },
        );
        return L.r2Estimate ? [line, ...intervalBand(label, xs, L.r2Estimate, shade(it.i))] : [line];
      });
      if (pr.readoutR2) {
        const data = pr.readoutR2.map((e, i) => ({ x: xs[i], y: fin(e.value) }));
        sets.push(
          lineDataset(`${it.label} · model's own readout (last layer)`, data, seriesColor(p, it.i), { borderDash: [1, 3], borderWidth: 1 }),
        );
      }
      return sets;
    });
    const legend = { labels: { filter: (item: { text: string }) => !item.text.endsWith(BAND) } };
    this.charts.push(
      createChart(this.mseCanvas, {
        type: 'line',
        data: { datasets: mse },
        options: {
          scales: {
            x: { type: 'linear', title: { display: true, text: RETENTION_AXES.mseX } },
            y: { type: 'linear', min: 0, title: { display: true, text: RETENTION_AXES.mseY } },
          },
          plugins: { legend },
        },
        plugins: [bg],
      }),
      createChart(this.r2Canvas, {
        type: 'line',
        data: { datasets: r2 },
        options: {
          scales: {
            x: { type: 'linear', title: { display: true, text: RETENTION_AXES.probeX } },
            y: { type: 'linear', suggestedMin: 0, max: 1, title: { display: true, text: RETENTION_AXES.probeY } },
          },
          interaction: { mode: 'index', intersect: false },
          plugins: { legend },
        },
        plugins: [bg],
      }),
    );
    this.host.rendered('retention', {
      runs: withData.length,
      points: Number(this.mseCanvas.dataset.points ?? 0) + Number(this.r2Canvas.dataset.points ?? 0),
    });
  }
}

/** Why no model shows retention: what it needs and, for one model, what that model has instead. */
function noRetentionText(archs: Architecture[]): string {
  if (archs.length !== 1)
    return 'No retention data: memory retention is measured on copy-first-input, which needs models with one input and one linear output.';
  const why = retentionNeeds(archs[0]);
  return why ? `No retention data: ${why}.` : 'No retention data: this diagnosis did not compute the retention section.';
}
