/**
 * Pure views of the host store: what the tree, the status bar, the Inspector, a training panel and the
 * end-of-run notification show. No vscode import: each is unit-tested against the state it is given.
 */
import type { HostToWebview, TrainingSnapshot } from '../shared/protocol';
import { runNumbersText } from '../shared/run-summary';
import type { HostState } from './store';
import { runSnapshot } from './store';
import { buildTree, type TreeNode } from './tree-items';

export function treeView(s: HostState): TreeNode[] {
  return buildTree(s.models, s.runs, s.live, s.runsFolder, s.monitored, s.watched);
}

export interface StatusBarView {
  text: string;
  tooltip: string;
  /** The run the click shows. */
  runId: string;
}

/** The latest live run's progress (null: nothing is training, the item hides). */
export function statusBarView(s: HostState): StatusBarView | null {
  const runs = [...s.live.values()];
  const r = runs.at(-1);
  if (!r) return null;
  const more = runs.length > 1 ? ` (+${runs.length - 1})` : '';
  const nums = runNumbersText(r);
  return {
    text: `$(sync~spin) ${r.label} ${r.step}/${r.totalSteps}${nums ? ` · ${nums}` : ''}${more}`,
    tooltip: 'RNN Memory: show the training panel',
    runId: r.runId,
  };
}

/** The training snapshot the Inspector follows: its chosen run, else the latest live one. */
export function inspectedSnapshot(s: HostState): TrainingSnapshot | null {
  if (s.inspectedRun) return runSnapshot(s, s.inspectedRun.runId, s.inspectedRun.disk);
  return [...s.live.values()].at(-1) ?? null;
}

export function inspectorMessage(s: HostState): Extract<HostToWebview, { type: 'inspector' }> {
  return { type: 'inspector', model: s.selection.model, diagnosis: [...s.selection.diagnosis], training: inspectedSnapshot(s) };
}

/** A training panel's full state (null: the run is not known to this window). */
export function trainingMessage(
  s: HostState,
  runId: string,
  disk: TrainingSnapshot | null = null,
): Extract<HostToWebview, { type: 'training' }> | null {
  const snap = runSnapshot(s, runId, disk);
  return snap ? { type: 'training', snapshot: snap } : null;
}

export interface NotificationView {
  kind: 'info' | 'error';
  text: string;
  actions: string[];
}

/**
 * The notification at the end of a run, from the store's final snapshot (the numbers are those of the
 * panel and the Inspector). `where` names the run folder; `resumeStep` is set when a failed run can resume.
 */
export function runEndNotification(final: TrainingSnapshot, where: string, resumeStep?: number | string): NotificationView {
  const nums = runNumbersText(final);
  switch (final.status) {
    case 'completed':
      return {
        kind: 'info',
        text: `Training finished: ${final.label}, ${final.step} steps${nums ? `, ${nums}` : ''}.`,
        actions: ['Open Diagnostics'],
      };
    case 'failed': {
      const resumable = resumeStep !== undefined;
      return {
        kind: 'error',
        text: `Training ${final.label} failed: ${final.error ?? 'unknown error'}.${resumable ? ` The run can be resumed from its last checkpoint (step ${resumeStep}).` : ''}`,
        actions: [...(resumable ? ['Resume'] : []), 'Show Log'],
      };
    }
    default:
      return {
        kind: 'info',
        text: `Training stopped at step ${final.step}${nums ? ` (${nums})` : ''}; saved in ${where}.`,
        actions: ['Resume'],
      };
  }
}
