/**
 * The numbers a run is summed up by (latest training loss, latest test metric) and their one text, used by
 * the training panel, the Inspector, the status bar and the end-of-run notification, so that all of them
 * show the same values with the same rounding. Pure.
 */
import { runStateWord } from './labels';
import { testMetricLabel } from './metric-name';
import { fmt } from './numbers';
import type { TrainingSnapshot } from './protocol';

export interface RunNumbers {
  /** The latest training loss. */
  loss?: number;
  /** The latest test metric (MSE or accuracy, per metricName) and its step. */
  metric?: number;
  metricStep?: number;
  metricName: TrainingSnapshot['metricName'];
}

export function runNumbers(s: Pick<TrainingSnapshot, 'points' | 'metricName'>): RunNumbers {
  let loss: number | undefined;
  let metric: number | undefined;
  let metricStep: number | undefined;
  for (let i = s.points.length - 1; i >= 0 && (loss === undefined || metric === undefined); i--) {
    const p = s.points[i];
    if (loss === undefined && p.loss !== undefined) loss = p.loss;
    if (metric === undefined && p.metric !== undefined) {
      metric = p.metric;
      metricStep = p.step;
    }
  }
  return { loss, metric, metricStep, metricName: s.metricName };
}

/** ["loss 0.155", "test MSE 0.214"] ("test loss 0.214" for copy, as the chart's legend): only the numbers the run has. */
export function runNumberParts(s: Pick<TrainingSnapshot, 'points' | 'metricName'>): string[] {
  const n = runNumbers(s);
  const parts: string[] = [];
  if (n.loss !== undefined) parts.push(`loss ${fmt(n.loss)}`);
  if (n.metric !== undefined) parts.push(`${testMetricLabel(s)} ${fmt(n.metric)}`);
  return parts;
}

/** "loss 0.155 · test MSE 0.214" (empty before the first point). */
export function runNumbersText(s: Pick<TrainingSnapshot, 'points' | 'metricName'>): string {
  return runNumberParts(s).join(' · ');
}

/** "copy · BRC T=50 · 1×64: stopped, step 120 / 500 · loss 0.155 · test MSE 0.214" (Inspector, tooltips). */
export function runSummaryLine(s: TrainingSnapshot): string {
  const nums = runNumbersText(s);
  const engine = s.engine ? ` · ${s.engine} engine` : '';
  return `${s.label}: ${runStateWord(s.status)}, step ${s.step} / ${s.totalSteps}${nums ? ` · ${nums}` : ''}${engine}`;
}
