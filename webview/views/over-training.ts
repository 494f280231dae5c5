/**
 * The Over-training view inside the training panel: each diagnosed weight snapshot's headline numbers
 * (a monitored run's diagnose_every) against the training step, so the user sees memory form while the model
 * trains: fraction bistable and the gradient's end ratio per layer, and the copy task's recall at the longest
 * delay relative to chance with the number of neurons that carry the target. Hidden until a snapshot is
 * diagnosed; intervals are the reports' 95 % intervals.
 */
import type { DiagnosedStep, Ranged } from '../protocol';
import { backgroundPlugin, createChart, lineDataset, logScale, markChart, type LineChart } from '../charts';
import { el, section } from '../dom';
import { toCss } from '../lib/colormap';
import { layerLabel } from '../../shared/labels';
import { seriesColor } from './common';
import type { ViewHost } from './types';

const BAND = ' (95 % interval)';
const legend = { labels: { filter: (item: { text: string }) => !item.text.endsWith(BAND) } };
const POINT = { pointRadius: 3 };

function canvas(role: string, label: string): HTMLCanvasElement {
  return el('canvas', { attrs: { 'data-role': role, role: 'img', 'aria-label': label } });
}

/** y for a log axis: positive finite values only (an unknown interval end is left open). */
const logY = (v: number | undefined | null) => (v !== undefined && v !== null && v > 0 && Number.isFinite(v) ? v : null);
const linY = (v: number | undefined | null) => (v !== undefined && v !== null && Number.isFinite(v) ? v : null);

export class OverTrainingView {
  readonly el: HTMLElement;
  private readonly caption = el('p', { class: 'caption' });
  private readonly fracCanvas = canvas('over-training-bistable', 'Fraction bistable of each layer against the training step');
  private readonly gradCanvas = canvas('over-training-gradient', 'Gradient end ratio of each layer against the training step');
  private readonly retCanvas = canvas(
    'over-training-retention',
    'Copy recall at the longest delay relative to chance, and memory carriers, against the step',
  );
  private readonly retBox = el('div', { class: 'chart-box' }, [this.retCanvas]);
  private charts: LineChart[] = [];
  private shown = '';

  constructor(private readonly host: ViewHost) {
    const s = section('overTraining', 'Over training');
    this.el = s.root;
    s.body.append(
      this.caption,
      el('div', { class: 'chart-box' }, [this.fracCanvas]),
      el('div', { class: 'chart-box' }, [this.gradCanvas]),
      this.retBox,
    );
    this.el.hidden = true;
  }

  /** The canvases that show data (for the panel's PNG export). */
  canvases(): HTMLCanvasElement[] {
    if (this.el.hidden) return [];
    return this.retBox.hidden ? [this.fracCanvas, this.gradCanvas] : [this.fracCanvas, this.gradCanvas, this.retCanvas];
  }

  dispose(): void {
    for (const c of this.charts) c.destroy();
    this.charts = [];
  }

  /** Draws the diagnosed steps (hidden when there are none). */
  update(steps: readonly DiagnosedStep[] | undefined, force = false): void {
    // Whole snapshots arrive with every metrics update: redraw only when the diagnosed steps differ.
    const key = JSON.stringify(steps ?? []);
    if (!force && key === this.shown) return;
    this.shown = key;
    this.dispose();
    const d = steps ?? [];
    this.el.hidden = d.length === 0;
    if (d.length === 0) return;
    this.caption.textContent =
      `${d.length} diagnosed snapshot${d.length === 1 ? '' : 's'} (steps ${d[0].step}` +
      `${d.length > 1 ? `–${d[d.length - 1].step}` : ''}); shaded: 95 % intervals.` +
      (d.length === 1 ? ' The curves draw from the second diagnosed snapshot.' : '');
    const p = this.host.palette();
    const layers = Math.max(0, ...d.map((s) => Math.max(s.fractionBistable.length, s.gradientEndRatio.length)));
    const bg = backgroundPlugin(() => toCss(this.host.palette().bg));
    const x = { type: 'linear' as const, title: { display: true, text: 'training step' } };
    const band = (label: string, i: number, get: (s: DiagnosedStep) => Ranged | null | undefined, y: typeof logY) => {
      const none = { borderWidth: 0, pointRadius: 0, pointHitRadius: 0 };
      const at = (f: (r: Ranged) => number) => d.map((s) => ({ x: s.step, y: y(get(s) ? f(get(s)!) : null) }));
      return [
        lineDataset(
          `${label}${BAND}`,
          at((r) => r.lo),
          seriesColor(p, i),
          { ...none, fill: false },
        ),
        lineDataset(
          `${label}${BAND}`,
          at((r) => r.hi),
          seriesColor(p, i),
          { ...none, fill: '-1', backgroundColor: toCss(p.series[i % p.series.length], 0.15) },
        ),
      ];
    };

    const perLayer = Array.from({ length: layers }, (_, l) => l);
    this.charts.push(
      createChart(this.fracCanvas, {
        type: 'line',
        data: {
          datasets: perLayer.map((l) =>
            lineDataset(
              `${layerLabel(l, true)}: a > 1`,
              d.map((s) => ({ x: s.step, y: linY(s.fractionBistable[l]) })),
              seriesColor(p, l),
              POINT,
            ),
          ),
        },
        options: {
          scales: { x, y: { type: 'linear', min: 0, max: 1, title: { display: true, text: 'fraction bistable' } } },
          plugins: { legend },
        },
        plugins: [bg],
      }),
    );
    this.charts.push(
      createChart(this.gradCanvas, {
        type: 'line',
        data: {
          datasets: perLayer.flatMap((l) => {
            const label = `${layerLabel(l, true)}: ‖∂L/∂h₀‖ / ‖∂L/∂h_T‖`;
            const get = (s: DiagnosedStep) => s.gradientEndRatio[l];
            return [
              lineDataset(
                label,
                d.map((s) => ({ x: s.step, y: logY(get(s)?.value) })),
                seriesColor(p, l),
                POINT,
              ),
              ...band(label, l, get, logY),
            ];
          }),
        },
        options: {
          scales: { x, y: { ...logScale, title: { display: true, text: 'gradient end ratio (below 1: decays)' } } },
          plugins: { legend },
        },
        plugins: [bg],
      }),
    );
    // Recall only exists for copy-first-input models; carriers for every report with a memory section.
    const hasRecall = d.some((s) => s.retention);
    const hasCarriers = d.some((s) => s.memoryCarriers !== null);
    this.retBox.hidden = !hasRecall && !hasCarriers;
    if (!this.retBox.hidden) {
      const delays = [...new Set(d.flatMap((s) => (s.retention ? [s.retention.delay] : [])))];
      const recall = `recall of x₁ at delay ${delays.join('/')}: MSE / chance`;
      const sets = [];
      if (hasRecall)
        sets.push(
          lineDataset(
            recall,
            d.map((s) => ({ x: s.step, y: linY(s.retention?.value) })),
            seriesColor(p, 0),
            POINT,
          ),
          ...band(recall, 0, (s) => s.retention, linY),
          lineDataset(
            'chance',
            d.map((s) => ({ x: s.step, y: 1 })),
            toCss(p.fg, 0.5),
            { borderDash: [4, 3] },
          ),
        );
      if (hasCarriers)
        sets.push(
          lineDataset(
            'memory carriers (neurons)',
            d.map((s) => ({ x: s.step, y: linY(s.memoryCarriers) })),
            seriesColor(p, 1),
            {
              ...POINT,
              yAxisID: 'y2',
              borderDash: [6, 3],
            },
          ),
        );
      this.charts.push(
        createChart(this.retCanvas, {
          type: 'line',
          data: { datasets: sets },
          options: {
            scales: {
              x,
              y: { type: 'linear', min: 0, display: hasRecall, title: { display: true, text: 'MSE / chance (1 = chance)' } },
              y2: {
                type: 'linear',
                position: 'right',
                min: 0,
                display: hasCarriers,
                grid: { drawOnChartArea: false },
                title: { display: true, text: 'memory carriers' },
                ticks: { precision: 0 },
              },
            },
            plugins: { legend },
          },
          plugins: [bg],
        }),
      );
    }
    for (const c of this.charts) markChart(c);
    this.host.rendered('overTraining', {
      snapshots: d.length,
      layers,
      recall: d.filter((s) => s.retention).length,
      painted: this.charts.reduce((n, c) => n + Number(c.canvas.dataset.points ?? 0), 0),
    });
  }
}
