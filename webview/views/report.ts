/** The whole diagnostic report on one page: summary and diagnosis, then every report view. */
import type { ReportItem } from '../../core/report/payload';
import { el } from '../dom';
import { cellLabel, fmt, fmtInt, readoutLabel } from '../lib/format';
import { BistabilityView } from './bistability';
import { fill } from './common';
import { FixedPointsView } from './fixed-points';
import { GradientFlowView } from './gradient-flow';
import { RetentionView } from './retention';
import type { View, ViewHost } from './types';

const SEVERITY_MARK: Record<string, string> = { good: '✓', warning: '⚠', info: 'ℹ' };

export class ReportView implements View {
  readonly el: HTMLElement;
  private readonly summary = el('section', { class: 'view summary-view', attrs: { 'data-view': 'summary', 'aria-label': 'Summary' } });
  private readonly children: View[];

  constructor(host: ViewHost) {
    this.children = [new BistabilityView(host), new GradientFlowView(host), new RetentionView(host), new FixedPointsView(host)];
    this.el = el('div', { class: 'report' }, [this.summary, ...this.children.map((c) => c.el)]);
  }

  setReports(items: ReportItem[]): void {
    this.renderSummary(items);
    for (const c of this.children) c.setReports?.(items);
  }

  retheme(): void {
    for (const c of this.children) c.retheme();
  }

  dispose(): void {
    for (const c of this.children) c.dispose();
  }

  private renderSummary(items: ReportItem[]): void {
    fill(
      this.summary,
      items.map((it) => {
        const r = it.report;
        const a = r.model.architecture;
        const arch = `${a.layers.map((l) => `${cellLabel(l.cell, l.custom?.name)}×${l.units}`).join(' → ')} → readout ${readoutLabel(a.readout)}`;
        // A probe batch has no targets, so its loss (against zeros) says nothing about the model.
        const probe = r.input.source === 'probe';
        const input =
          r.input.source === 'task'
            ? `${r.input.task ?? 'task'} batch`
            : probe
              ? 'random probe batch (N(0,1) inputs, no targets)'
              : 'input file';
        return el('div', { class: 'run-summary' }, [
          el('h2', { text: it.label }),
          el('p', {
            class: 'caption',
            text: `${arch} · ${fmtInt(r.model.paramCount)} parameters · ${input}, T = ${r.input.T}, B = ${r.input.B}${probe ? '' : ` · loss ${fmt(r.input.loss)}`} · ${r.createdAt}`,
          }),
          el(
            'ul',
            { class: 'diagnosis' },
            r.diagnosis.map((d) =>
              el('li', { class: d.severity }, [
                el('span', { class: 'mark', text: SEVERITY_MARK[d.severity] ?? '•', attrs: { 'aria-label': d.severity } }),
                ` ${d.text}`,
              ]),
            ),
          ),
        ]);
      }),
    );
  }
}
