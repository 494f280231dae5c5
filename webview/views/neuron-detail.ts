/**
 * One neuron of the bistability map: its trajectory (h, a, c, input drive u over time, flips marked) and
 * its fixed-point diagram at the current time: h* against a for the current u, stable and unstable
 * branches of h = tanh(u + a·h), and the (a, u) plane with the bistable band |u| < u*(a).
 */
import type { BistabilityLayer, MemoryCarrier, MemoryReport } from '../../core/diagnostics/types';
import { createChart, cursorPlugin, lineDataset, updateChart, backgroundPlugin, type LineChart, type XY } from '../charts';
import { el } from '../dom';
import { divergingScale, scaleColor, toCss } from '../lib/colormap';
import { targetLabel, targetShades } from '../lib/memory-carriers';
import { bandEdge, branchCurve, selfMapFixedPoints } from '../lib/fixed-point-math';
import { fmt } from '../lib/format';
import type { ViewHost } from './types';
import { layerLabel } from '../../core/diagnostics/labels';

const num = (v: number | null | undefined): number => (typeof v === 'number' ? v : NaN);

export class NeuronDetail {
  readonly el: HTMLElement;
  private readonly title = el('h3');
  private readonly caption = el('p', { class: 'caption' });
  private readonly trajCanvas = el('canvas', { attrs: { 'data-role': 'neuron-trajectory', role: 'img' } });
  private readonly fpCanvas = el('canvas', { attrs: { 'data-role': 'fixed-point-diagram', role: 'img' } });
  private readonly bandCanvas = el('canvas', { attrs: { 'data-role': 'bistable-band', role: 'img' } });
  private readonly memCanvas = el('canvas', { attrs: { 'data-role': 'carrier-traces', role: 'img' } });
  private readonly memBox = el('div', { class: 'chart-box wide' }, [this.memCanvas]);
  private mem: LineChart | null = null;
  /** Set when the shown neuron is a listed memory carrier: its traces over several sequences. */
  private carrier: { carrier: MemoryCarrier; memory: MemoryReport } | undefined;
  private traj: LineChart | null = null;
  private fp: LineChart | null = null;
  private band: LineChart | null = null;
  private layer: BistabilityLayer | null = null;
  private neuron = -1;
  private t = 0;
  private frame = 0;
  /** Charts must be rebuilt at the next frame (neuron changed); otherwise only the time moved. */
  private dirty = false;

  constructor(
    private readonly host: ViewHost,
    private readonly onTime: (t: number) => void,
  ) {
    this.el = el('div', { class: 'neuron-detail hidden' }, [
      this.title,
      this.caption,
      el('div', { class: 'chart-row' }, [
        el('div', { class: 'chart-box wide' }, [this.trajCanvas]),
        el('div', { class: 'chart-box' }, [this.fpCanvas]),
        el('div', { class: 'chart-box' }, [this.bandCanvas]),
      ]),
      el('div', { class: 'chart-row' }, [this.memBox]),
    ]);
    this.memBox.hidden = true;
  }

  canvases(): HTMLCanvasElement[] {
    return this.layer ? [this.trajCanvas, this.fpCanvas, this.bandCanvas, ...(this.mem ? [this.memCanvas] : [])] : [];
  }

  /** Shows a neuron; rebuilds the charts when it changed (or when `rebuild`, e.g. after a theme change). */
  show(L: BistabilityLayer, neuron: number, t: number, rebuild = false, carrier?: { carrier: MemoryCarrier; memory: MemoryReport }): void {
    this.el.classList.remove('hidden');
    const changed = rebuild || L !== this.layer || neuron !== this.neuron || carrier?.carrier !== this.carrier?.carrier;
    this.carrier = carrier;
    this.layer = L;
    this.neuron = neuron;
    this.t = Math.max(0, Math.min(L.T - 1, t));
    // Coalesced to one rebuild per frame: holding an arrow key moves through many neurons.
    this.dirty ||= changed || !this.traj;
    this.schedule();
  }

  setTime(t: number): void {
    if (!this.layer) return;
    this.t = Math.max(0, Math.min(this.layer.T - 1, t));
    this.schedule();
  }

  hide(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.el.classList.add('hidden');
    this.destroyCharts();
    this.layer = null;
    this.neuron = -1;
  }

  retheme(): void {
    if (!this.layer) return;
    this.dirty = true;
    this.schedule();
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    this.destroyCharts();
  }

  private destroyCharts(): void {
    for (const c of [this.traj, this.fp, this.band, this.mem]) c?.destroy();
    this.traj = this.fp = this.band = this.mem = null;
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      if (!this.layer) return;
      if (this.dirty) this.build();
      else this.updateTime();
      this.dirty = false;
    });
  }

  private series(get: (t: number) => number): XY[] {
    const L = this.layer!;
    const out: XY[] = [];
    for (let t = 0; t < L.T; t++) {
      const v = get(t);
      out.push({ x: t, y: Number.isFinite(v) ? v : null });
    }
    return out;
  }

  private aRange(): [number, number] {
    const L = this.layer!;
    let hi = 2;
    for (let t = 0; t < L.T; t++) hi = Math.max(hi, num(L.a[t]?.[this.neuron]));
    return [0, Math.min(hi * 1.05, 20)];
  }

  private build(): void {
    this.destroyCharts();
    const L = this.layer!;
    const j = this.neuron;
    const p = this.host.palette();
    const bg = () => toCss(this.host.palette().bg);
    const cursor = cursorPlugin(
      () => this.t,
      () => toCss(this.host.palette().fg),
    );
    this.title.textContent = `${layerLabel(L.layer)} · neuron ${j}`;
    const s = L.neurons[j];
    const flips = L.flips.filter((f) => f.neuron === j);
    this.caption.textContent = s
      ? `Bistable ${Math.round(s.fractionBistable * 100)}% of steps · ${s.flipCount} flip${s.flipCount === 1 ? '' : 's'} · longest hold ${s.longestHold} steps` +
        (L.method === 'self-map' ? ' · a is the slope of the neuron’s self-map (approximation for this cell)' : '')
      : '';
    const sets = [
      lineDataset(
        'h',
        this.series((t) => num(L.h[t]?.[j])),
        toCss(p.fg),
      ),
      lineDataset(
        'a',
        this.series((t) => num(L.a[t]?.[j])),
        toCss(p.red),
      ),
    ];
    if (L.c)
      sets.push(
        lineDataset(
          L.cell === 'gru' ? 'z' : L.cell === 'lstm' ? 'f' : 'c',
          this.series((t) => num(L.c![t]?.[j])),
          toCss(p.green),
        ),
      );
    if (L.drive)
      sets.push(
        lineDataset(
          'u (input drive)',
          this.series((t) => num(L.drive![t]?.[j])),
          toCss(p.blue),
        ),
      );
    sets.push(
      lineDataset(
        'flips',
        flips.map((f) => ({ x: f.t, y: num(L.h[f.t]?.[j]) })),
        toCss(p.orange),
        { showLine: false, pointRadius: 4, pointStyle: 'triangle' },
      ),
    );
    this.traj = createChart(this.trajCanvas, {
      type: 'line',
      data: { datasets: sets },
      options: {
        scales: { x: { type: 'linear', title: { display: true, text: 't' } }, y: { type: 'linear' } },
        plugins: { title: { display: false } },
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        onHover: (_e, els, chart) => {
          const pt = els.length > 0 ? (chart.data.datasets[els[0].datasetIndex]?.data[els[0].index] as XY | undefined) : undefined;
          if (pt && Number.isFinite(pt.x)) this.onTime(Math.round(pt.x));
        },
      },
      plugins: [cursor, backgroundPlugin(bg)],
    });
    this.trajCanvas.setAttribute(
      'aria-label',
      `Trajectory of ${layerLabel(L.layer, true)} neuron ${j}: h, a${L.c ? ', gate' : ''}${L.drive ? ', input drive' : ''} over time`,
    );
    const [a0, a1] = this.aRange();
    this.fp = createChart(this.fpCanvas, {
      type: 'line',
      data: { datasets: [] },
      options: {
        scales: {
          x: { type: 'linear', min: a0, max: a1, title: { display: true, text: 'a (feedback gain)' } },
          y: { type: 'linear', min: -1.05, max: 1.05, title: { display: true, text: 'h*' } },
        },
        plugins: { legend: { labels: { boxHeight: 2 } }, title: { display: true, text: '' } },
      },
      plugins: [backgroundPlugin(bg)],
    });
    let uMax = 0.6;
    if (L.drive) for (let t = 0; t < L.T; t++) uMax = Math.max(uMax, Math.abs(num(L.drive[t]?.[j])) || 0);
    const edge = bandEdge(a1);
    this.band = createChart(this.bandCanvas, {
      type: 'line',
      data: {
        datasets: [
          lineDataset(
            'u*(a)',
            edge.map((e) => ({ x: e.a, y: e.u })),
            toCss(p.purple),
            { fill: false },
          ),
          lineDataset(
            'bistable band |u| < u*(a)',
            edge.map((e) => ({ x: e.a, y: -e.u })),
            toCss(p.purple),
            { fill: '-1', backgroundColor: toCss(p.purple, 0.2) },
          ),
          lineDataset(
            'trajectory',
            L.drive ? Array.from({ length: L.T }, (_, t) => ({ x: num(L.a[t]?.[j]), y: num(L.drive![t]?.[j]) })) : [],
            toCss(p.muted, 0.6),
            { showLine: false, pointRadius: 1.5 },
          ),
          lineDataset('now', [], toCss(p.red), { showLine: false, pointRadius: 5 }),
        ],
      },
      options: {
        scales: {
          x: { type: 'linear', min: a0, max: a1, title: { display: true, text: 'a' } },
          y: {
            type: 'linear',
            min: -Math.min(uMax * 1.1, 10),
            max: Math.min(uMax * 1.1, 10),
            title: { display: true, text: 'u (input drive)' },
          },
        },
        plugins: { legend: { labels: { filter: (item) => item.text !== 'u*(a)' } } },
      },
      plugins: [backgroundPlugin(bg)],
    });
    this.buildCarrier();
    this.updateTime();
  }

  /** h over time for the traced sequences of a memory carrier, each coloured by its target value. */
  private buildCarrier(): void {
    const mc = this.carrier;
    this.memBox.hidden = !mc;
    if (!mc) return;
    const { carrier: c, memory: m } = mc;
    const p = this.host.palette();
    const scale = divergingScale(p.blue, p.heatMid, p.orange, 0, 1);
    const shades = targetShades(m, c.targets);
    const what = targetLabel(m, c.component);
    const sets = c.traces.map((tr, s) =>
      lineDataset(
        `${what} = ${fmt(c.targets[s])}`,
        tr.map((v, i) => ({ x: m.times[i], y: Number.isFinite(v) ? v : null })),
        toCss(scaleColor(scale, shades[s]) ?? p.fg),
        { pointRadius: 0, borderWidth: 1 },
      ),
    );
    sets.push(
      lineDataset(
        'carrier window',
        [
          { x: c.from, y: 1.05 },
          { x: c.to, y: 1.05 },
        ],
        toCss(p.fg),
        { pointRadius: 2, borderWidth: 3 },
      ),
    );
    this.mem = createChart(this.memCanvas, {
      type: 'line',
      data: { datasets: sets },
      options: {
        scales: {
          x: { type: 'linear', title: { display: true, text: 't' } },
          y: { type: 'linear', min: -1.1, max: 1.1, title: { display: true, text: 'h' } },
        },
        plugins: {
          legend: { display: false },
          title: {
            display: true,
            text: `h in ${c.traces.length} sequences, ${m.target === 'class' ? 'coloured by class' : `blue → orange: ${what} low → high`}; holds it from t = ${c.from} to ${c.to} (score ${fmt(c.score)})`,
          },
        },
        interaction: { mode: 'nearest', intersect: false },
      },
      plugins: [backgroundPlugin(() => toCss(this.host.palette().bg))],
    });
    this.memCanvas.setAttribute(
      'aria-label',
      `Memory carrier: h of ${layerLabel(c.layer, true)} neuron ${c.neuron} in ${c.traces.length} sequences coloured by ${what}`,
    );
  }

  private updateTime(): void {
    const L = this.layer;
    if (!L || !this.fp || !this.band || !this.traj) return;
    const p = this.host.palette();
    const j = this.neuron;
    const t = this.t;
    const a = num(L.a[t]?.[j]);
    const h = num(L.h[t]?.[j]);
    const uRaw = L.drive ? num(L.drive[t]?.[j]) : 0;
    const u = Number.isFinite(uRaw) ? uRaw : 0;
    const [a0, a1] = this.aRange();
    const segs = branchCurve(u, a0, a1);
    const stable: XY[] = [];
    const unstable: XY[] = [];
    for (const s of segs) {
      const dst = s.stable ? stable : unstable;
      if (dst.length) dst.push({ x: NaN, y: null });
      for (const q of s.points) dst.push({ x: q.a, y: q.h });
    }
    const fps = Number.isFinite(a) ? selfMapFixedPoints(a, u) : [];
    this.fp.data.datasets = [
      lineDataset('stable h*', stable, toCss(p.fg)),
      lineDataset('unstable h*', unstable, toCss(p.fg), { borderDash: [5, 4] }),
      lineDataset(
        'fixed points now',
        fps.map((f) => ({ x: a, y: f.h })),
        toCss(p.green),
        {
          showLine: false,
          pointRadius: 5,
          pointBackgroundColor: fps.map((f) => (f.stable ? toCss(p.green) : 'transparent')),
        },
      ),
      lineDataset('h_t', Number.isFinite(a) && Number.isFinite(h) ? [{ x: a, y: h }] : [], toCss(p.red), {
        showLine: false,
        pointRadius: 4,
        pointStyle: 'crossRot',
        borderWidth: 2,
      }),
    ];
    const fpTitle = `t = ${t}: a = ${fmt(a)}, u = ${L.drive ? fmt(u) : '0 (drive not available)'} · ${fps.length} fixed point${fps.length === 1 ? '' : 's'}`;
    // Mutate in place: chart.options are resolver proxies and must not be spread.
    if (this.fp.options.plugins?.title) this.fp.options.plugins.title.text = fpTitle;
    this.fpCanvas.setAttribute('aria-label', `Fixed-point diagram. ${fpTitle}`);
    updateChart(this.fp);
    this.band.data.datasets[3].data = Number.isFinite(a) ? [{ x: a, y: u }] : [];
    updateChart(this.band);
    this.traj.update('none');
  }
}
