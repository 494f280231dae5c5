/**
 * Live training: loss and test metric, steps/s, ETA, a Stop button, and (monitored runs with diagnose_every)
 * the Over-training view of each diagnosed snapshot's headline numbers. Events can arrive hundreds of times a second: each replaces the snapshot (a pure reduce); one
 * requestAnimationFrame redraw per frame updates the chart with update('none').
 */
import type { TrainEvent } from '../../core/train/types';
import { curriculumStages, stageAt } from '../../core/train/curriculum';
import type { TrainingSnapshot } from '../protocol';
import { backgroundPlugin, createChart, lineDataset, logScale, markChart, type LineChart, type XY } from '../charts';
import { button, el, section, setDisabled } from '../dom';
import { exportButtons } from '../export';
import { toCss } from '../lib/colormap';
import { trainingCsv } from '../lib/csv';
import { fmt, fmtDuration } from '../lib/format';
import { runStateTitle } from '../../shared/labels';
import { runNumberParts } from '../../shared/run-summary';
import { reduceTrainEvent } from '../../shared/training-snapshot';
import { metricRepeatsTestLoss } from '../../shared/metric-name';
import { fill } from './common';
import { OverTrainingView } from './over-training';
import type { View, ViewHost } from './types';

export class TrainingView implements View {
  readonly el: HTMLElement;
  private readonly toolbar: HTMLElement;
  private readonly heading: HTMLElement;
  private readonly stats = el('p', { class: 'stats', attrs: { 'aria-live': 'off' } });
  private readonly statusText = el('p', { class: 'run-status', attrs: { role: 'status' } });
  private readonly progress = el('progress', { attrs: { max: '1', value: '0', 'aria-label': 'training progress' } });
  private readonly canvas = el('canvas', {
    attrs: { 'data-role': 'training-loss', role: 'img', 'aria-label': 'Training loss and test metric against step' },
  });
  private readonly stop: HTMLElement;
  private chart: LineChart | null = null;
  private snap: TrainingSnapshot | null = null;
  private frame = 0;
  private readonly series = { loss: [] as XY[], test: [] as XY[], metric: [] as XY[] };
  private readonly over: OverTrainingView;

  constructor(private readonly host: ViewHost) {
    const s = section('training', 'Training');
    this.el = s.root;
    this.toolbar = s.toolbar;
    this.heading = s.heading;
    this.stop = button('Stop', () => this.snap && this.host.post({ type: 'stopTraining', runId: this.snap.runId }), {
      title: 'Stop training after the current step (a checkpoint is saved)',
    });
    this.over = new OverTrainingView(host);
    s.body.append(this.statusText, this.progress, this.stats, el('div', { class: 'chart-box tall' }, [this.canvas]), this.over.el);
    fill(this.toolbar, [
      host.interactive ? this.stop : null,
      exportButtons(
        () => this.host.exporter(),
        () => `training ${this.snap?.label ?? ''}`,
        () => [this.canvas, ...this.over.canvases()],
        () => (this.snap ? trainingCsv(this.snap) : ''),
        () => toCss(this.host.palette().bg),
      ),
    ]);
  }

  setTraining(s: TrainingSnapshot): void {
    this.snap = s;
    this.heading.textContent = `Training: ${s.label}`;
    this.buildChart();
    this.redraw();
    this.over.update(s.diagnosed);
  }

  trainingEvent(runId: string, e: TrainEvent): void {
    if (!this.snap || this.snap.runId !== runId) return;
    const next = reduceTrainEvent(this.snap, e);
    if (next === this.snap) return;
    this.snap = next;
    this.schedule();
  }

  retheme(): void {
    if (!this.snap) return;
    this.buildChart();
    this.redraw();
    this.over.update(this.snap.diagnosed, true);
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    this.chart?.destroy();
    this.over.dispose();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.redraw();
    });
  }

  private buildChart(): void {
    this.chart?.destroy();
    const p = this.host.palette();
    const acc = this.snap?.metricName === 'accuracy';
    this.chart = createChart(this.canvas, {
      type: 'line',
      data: {
        datasets: [
          lineDataset('train loss', this.series.loss, toCss(p.blue)),
          lineDataset('test loss', this.series.test, toCss(p.orange), { pointRadius: 2 }),
          lineDataset(acc ? 'test accuracy' : 'test MSE', this.series.metric, toCss(p.green), {
            pointRadius: 2,
            yAxisID: acc ? 'y2' : 'y',
            borderDash: acc ? [] : [4, 3],
          }),
        ],
      },
      options: {
        scales: {
          x: { type: 'linear', title: { display: true, text: 'step' } },
          y: { ...logScale, title: { display: true, text: 'loss' } },
          y2: {
            type: 'linear',
            position: 'right',
            min: 0,
            max: 1,
            display: 'auto',
            grid: { drawOnChartArea: false },
            title: { display: true, text: 'accuracy' },
          },
        },
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        // Only series that have points and show something (redraw hides the others).
        plugins: { legend: { labels: { filter: (item, data) => data.datasets[item.datasetIndex ?? 0]?.hidden !== true } } },
      },
      plugins: [backgroundPlugin(() => toCss(this.host.palette().bg))],
    });
  }

  private redraw(): void {
    const s = this.snap;
    if (!s || !this.chart) return;
    const { loss, test, metric } = this.series;
    loss.length = test.length = metric.length = 0;
    const pos = (v: number | undefined) => (v !== undefined && v > 0 && Number.isFinite(v) ? v : null);
    for (const q of s.points) {
      if (q.loss !== undefined) loss.push({ x: q.step, y: pos(q.loss) });
      if (q.testLoss !== undefined) test.push({ x: q.step, y: pos(q.testLoss) });
      if (q.metric !== undefined) metric.push({ x: q.step, y: s.metricName === 'accuracy' ? q.metric : pos(q.metric) });
    }
    const sets = this.chart.data.datasets;
    sets[0].hidden = loss.length === 0;
    sets[1].hidden = test.length === 0;
    sets[2].hidden = metric.length === 0 || metricRepeatsTestLoss(s.points, s.metricName);
    this.chart.update('none');
    markChart(this.chart);
    this.progress.value = s.totalSteps > 0 ? s.step / s.totalSteps : 0;
    this.stats.textContent = [
      `step ${s.step} / ${s.totalSteps}`,
      `${fmt(s.stepsPerSec)} steps/s`,
      s.status === 'running' ? `ETA ${fmtDuration(s.etaMs)}` : '',
      curriculumText(s),
      s.engine ? `${s.engine} engine` : '',
      // The same numbers, rounded the same way, as the Inspector and the end-of-run notification.
      ...runNumberParts(s),
    ]
      .filter(Boolean)
      .join(' · ');
    this.statusText.textContent = s.status === 'failed' ? `Failed: ${s.error ?? 'unknown error'}` : runStateTitle(s.status);
    this.statusText.className = `run-status ${s.status}`;
    setDisabled(this.stop, s.status !== 'running');
    this.host.rendered('training', { points: s.points.length, step: s.step, status: s.status });
  }
}

/** "curriculum: length 9 of 20" while a sequence-length curriculum stage is active. */
function curriculumText(s: TrainingSnapshot): string {
  const stage = stageAt(curriculumStages(s.config), s.config.curriculum, s.step);
  return stage ? `curriculum: length ${stage.T} of ${s.config.T}` : '';
}
