/**
 * The side-panel Inspector: the open model's architecture, the diagnosis in sentences, a mini loss chart
 * of the current training run, and buttons for the extension's commands.
 */
import type { TrainEvent } from '../../core/train/types';
import type { HostCommand, TrainingSnapshot } from '../protocol';
import { createChart, lineDataset, logScale, markChart, type LineChart, type XY } from '../charts';
import { button, el, section } from '../dom';
import { toCss } from '../lib/colormap';
import { fmtInt, readoutLabel } from '../lib/format';
import { cellLabel, layerLabel } from '../../shared/labels';
import { runSummaryLine } from '../../shared/run-summary';
import { reduceTrainEvent } from '../../shared/training-snapshot';
import { fill } from './common';
import type { InspectorMessage, View, ViewHost } from './types';

const SEVERITY_MARK: Record<string, string> = { good: '✓', warning: '⚠', info: 'ℹ' };

export class InspectorView implements View {
  readonly el: HTMLElement;
  private readonly model = el('div', { class: 'inspector-model' });
  private readonly diagnosis = el('ul', { class: 'diagnosis' });
  private readonly trainText = el('p', { class: 'caption' });
  private readonly canvas = el('canvas', {
    attrs: { 'data-role': 'inspector-loss', role: 'img', 'aria-label': 'Training loss of the current run' },
  });
  private readonly chartBox = el('div', { class: 'chart-box small' }, [this.canvas]);
  private readonly actions = el('div', { class: 'actions' });
  private chart: LineChart | null = null;
  private msg: InspectorMessage | null = null;
  private frame = 0;
  private readonly loss: XY[] = [];

  constructor(private readonly host: ViewHost) {
    const s = section('inspector', 'Inspector');
    this.el = s.root;
    this.el.classList.add('compact');
    s.body.append(
      el('h3', { text: 'Model' }),
      this.model,
      el('h3', { text: 'Diagnosis' }),
      this.diagnosis,
      el('h3', { text: 'Training' }),
      this.trainText,
      this.chartBox,
      this.actions,
    );
    this.render();
  }

  setInspector(m: InspectorMessage): void {
    this.msg = m;
    this.render();
  }

  trainingEvent(runId: string, e: TrainEvent): void {
    const t = this.msg?.training;
    if (!this.msg || !t || t.runId !== runId) return;
    const next = reduceTrainEvent(t, e);
    if (next === t) return;
    this.msg = { ...this.msg, training: next };
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.renderTraining();
      if (e.type === 'done' || e.type === 'error') this.renderActions();
    });
  }

  retheme(): void {
    this.chart?.destroy();
    this.chart = null;
    this.renderTraining();
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    this.chart?.destroy();
  }

  private render(): void {
    const m = this.msg?.model ?? null;
    if (!m) {
      fill(this.model, [
        el('p', {
          class: 'caption',
          text: 'No model open. Open a model file (.safetensors, PyTorch .pt/.pth, Keras .keras/.h5 or TF.js model.json) or train one.',
        }),
      ]);
    } else {
      const a = m.architecture;
      const layers = a.layers.map((l, i) => el('li', { text: `${layerLabel(i)}: ${cellLabel(l.cell, l.custom?.name)} × ${l.units}` }));
      fill(this.model, [
        el('p', { class: 'model-name', text: m.name }),
        m.path ? el('p', { class: 'caption path', text: m.path }) : null,
        el('ul', { class: 'arch' }, [
          el('li', { text: `Input size ${a.inputSize}` }),
          ...layers,
          el('li', { text: `Readout: ${readoutLabel(a.readout)}` }),
          el('li', { text: `${fmtInt(m.paramCount)} parameters` }),
          a.task ? el('li', { text: `Task: ${a.task.name}${a.task.T ? `, T = ${a.task.T}` : ''}` }) : null,
        ]),
        ...(m.warnings ?? []).map((w) => el('p', { class: 'warning', text: `⚠ ${w}` })),
      ]);
    }
    const diag = this.msg?.diagnosis ?? [];
    fill(
      this.diagnosis,
      diag.length
        ? diag.map((d) =>
            el('li', { class: d.severity, attrs: { title: d.refs.join(', ') } }, [
              el('span', { class: 'mark', text: SEVERITY_MARK[d.severity] ?? '•', attrs: { 'aria-label': d.severity } }),
              ` ${d.text}`,
            ]),
          )
        : [el('li', { class: 'caption', text: 'Run a diagnosis to see what the model remembers.' })],
    );
    this.chart?.destroy();
    this.chart = null;
    this.renderTraining();
    this.renderActions();
    this.host.rendered('inspector', { model: m ? 1 : 0, sentences: diag.length });
  }

  private renderTraining(): void {
    const t: TrainingSnapshot | null | undefined = this.msg?.training;
    this.chartBox.hidden = !t;
    if (!t) {
      this.trainText.textContent = 'No training run.';
      return;
    }
    this.loss.length = 0;
    for (const q of t.points) if (q.loss !== undefined && q.loss > 0) this.loss.push({ x: q.step, y: q.loss });
    // The same summary, with the same rounding, as the training panel and the end-of-run notification.
    this.trainText.textContent = runSummaryLine(t);
    if (!this.chart) {
      const p = this.host.palette();
      this.chart = createChart(this.canvas, {
        type: 'line',
        data: { datasets: [lineDataset('loss', this.loss, toCss(p.blue))] },
        options: {
          plugins: { legend: { display: false } },
          scales: { x: { type: 'linear', ticks: { maxTicksLimit: 4 } }, y: logScale },
        },
      });
    } else {
      this.chart.update('none');
      markChart(this.chart);
    }
  }

  private renderActions(): void {
    const post = (command: HostCommand) => this.host.post({ type: 'command', command });
    const hasModel = !!this.msg?.model;
    const running = this.msg?.training?.status === 'running';
    const b = (label: string, cmd: HostCommand, secondary = true, disabled = false) =>
      button(label, () => post(cmd), { secondary, disabled });
    fill(this.actions, [
      b('Open model…', 'openModel', false),
      b('Train on copy task', 'trainCopyTask'),
      b('Train…', 'trainTask'),
      running ? b('Stop training', 'stopTraining', false) : null,
      b('Bistability map', 'showBistabilityMap', true, !hasModel),
      b('Gradient flow', 'showGradientFlow', true, !hasModel),
      b('Memory retention', 'showRetention', true, !hasModel),
      b('Export HTML report', 'exportReport', true, !hasModel),
    ]);
  }
}
