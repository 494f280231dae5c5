/**
 * Fixed points of the full state map under a constant input, PCA-projected: points coloured by stability
 * (slow points hollow), trajectories from a few starts, and the observed trajectory.
 */
import type { DiagnosticReport, FixedPoint } from '../../core/diagnostics/types';
import { backgroundPlugin, createChart, lineDataset, type LineChart, type XY } from '../charts';
import { el, section } from '../dom';
import { exportButtons } from '../export';
import { toCss } from '../lib/colormap';
import { fixedPointsCsv } from '../lib/csv';
import { fixedPointsCaption } from '../lib/fixed-point-caption';
import { fmtPercent } from '../lib/format';
import { clampIndex, fill, runSelect, ReportSectionView } from './common';
import type { View, ViewHost } from './types';

export class FixedPointsView extends ReportSectionView implements View {
  readonly el: HTMLElement;
  private readonly toolbar: HTMLElement;
  private readonly caption = el('p', { class: 'caption' });
  private readonly canvas = el('canvas', { attrs: { 'data-role': 'fixed-points', role: 'img' } });
  private chart: LineChart | null = null;
  private run: number;

  constructor(private readonly host: ViewHost) {
    super();
    this.run = host.getState<number>('fixedPoints.run') ?? 0;
    const s = section('fixedPoints', 'Fixed points');
    this.el = s.root;
    this.toolbar = s.toolbar;
    s.body.append(this.caption, el('div', { class: 'chart-box tall' }, [this.canvas]));
    this.el.hidden = true;
  }

  dispose(): void {
    this.chart?.destroy();
  }

  private get report(): DiagnosticReport | null {
    return this.items[clampIndex(this.run, this.items.length)]?.report ?? null;
  }

  protected render(): void {
    const r = this.report;
    if (!r) return;
    const fp = r.fixedPoints;
    fill(this.toolbar, [
      runSelect(this.items, clampIndex(this.run, this.items.length), (i) => {
        this.run = i;
        this.host.setState('fixedPoints.run', i);
        this.render();
      }),
      exportButtons(
        () => this.host.exporter(),
        () => `fixed points ${this.items[clampIndex(this.run, this.items.length)]?.label ?? ''}`,
        () => [this.canvas],
        () => fixedPointsCsv(fp),
        () => toCss(this.host.palette().bg),
      ),
    ]);
    const p = this.host.palette();
    this.caption.textContent = fixedPointsCaption(fp);
    const pts = (s: FixedPoint['stability']) => fp.points.filter((q) => q.stability === s);
    const xy = (q: FixedPoint): XY => ({ x: q.pca[0], y: q.pca[1] });
    const hollow = (qs: FixedPoint[], c: string) => qs.map((q) => (q.slow ? 'transparent' : c));
    const pointSet = (label: string, s: FixedPoint['stability'], color: string, style: 'circle' | 'triangle' | 'rect') => {
      const qs = pts(s);
      return lineDataset(label, qs.map(xy), color, {
        showLine: false,
        pointRadius: 6,
        pointStyle: style,
        borderWidth: 2,
        pointBackgroundColor: hollow(qs, color),
      });
    };
    const traj = fp.trajectories.map((tr, k) =>
      lineDataset(
        k === 0 ? 'trajectories (constant input)' : `trajectory ${k + 1}`,
        tr.map(([x, y]) => ({ x, y })),
        toCss(p.muted, 0.7),
        { borderWidth: 1 },
      ),
    );
    this.chart?.destroy();
    this.chart = createChart(this.canvas, {
      type: 'line',
      data: {
        datasets: [
          ...traj,
          lineDataset(
            'observed trajectory',
            fp.observed.map(([x, y]) => ({ x, y })),
            toCss(p.fg),
            { borderWidth: 1.5 },
          ),
          pointSet('stable', 'stable', toCss(p.green), 'circle'),
          pointSet('unstable', 'unstable', toCss(p.red), 'triangle'),
          pointSet('marginal', 'marginal', toCss(p.yellow), 'rect'),
        ],
      },
      options: {
        scales: {
          x: { type: 'linear', title: { display: true, text: `PC1 (${fmtPercent(fp.explainedVariance[0])} variance)` } },
          y: { type: 'linear', title: { display: true, text: `PC2 (${fmtPercent(fp.explainedVariance[1])} variance)` } },
        },
        plugins: { legend: { labels: { filter: (item) => !/^trajectory \d/.test(item.text) } } },
      },
      plugins: [backgroundPlugin(() => toCss(this.host.palette().bg))],
    });
    this.canvas.setAttribute('aria-label', `Fixed points in PCA coordinates. ${this.caption.textContent}`);
    this.host.rendered('fixedPoints', { points: fp.points.length, trajectories: fp.trajectories.length });
  }
}
