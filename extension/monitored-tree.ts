/**
 * Tree nodes (pure data) of monitored runs and watched folders. A monitored run's contextValue starts with
 * "monitoredRun;" (never "run;": it cannot be stopped, resumed or deleted from here); its snapshots are
 * "snapshot" children whose click runs Open Diagnostics on them. A bad run, a partial snapshot or a watched
 * folder without runs is one row whose description is the problem.
 */
import { basename, join } from 'node:path';
import { RUN_FILES } from '../core/train/run';
import { MONITOR_FILE } from '../core/runs/monitored';
import { fmt } from '../shared/numbers';
import type { MonitoredRun, WatchedFolder } from './monitored-runs';
import type { TreeNode } from './tree-node';

export const OPEN_SNAPSHOT_COMMAND = 'rnnMemory.openSnapshotDiagnostics';
export const UNWATCH_COMMAND = 'rnnMemory.unwatchRunsFolder';

const STATE_ICON: Record<MonitoredRun['state'], string> = {
  live: 'pulse',
  running: 'sync~spin',
  completed: 'pass',
  failed: 'error',
  stopped: 'debug-pause',
  bad: 'warning',
};

/** "live · step 30/40 · loss 0.12 · mse 0.2 · 3 snapshots" */
export function monitoredDescription(r: MonitoredRun): string {
  if (r.state === 'bad') return `bad: ${r.problem ?? 'unreadable'}`;
  const parts: string[] = [r.state, `step ${r.totalSteps ? `${r.step}/${r.totalSteps}` : r.step}`];
  if (r.last?.trainLoss !== undefined) parts.push(`loss ${fmt(r.last.trainLoss)}`);
  if (r.last?.metric !== undefined) parts.push(`${r.metricName ?? 'metric'} ${fmt(r.last.metric)}`);
  parts.push(`${r.snapshots.length} snapshot${r.snapshots.length === 1 ? '' : 's'}`);
  if (r.codeProblem) parts.push('model code moved');
  return parts.join(' · ');
}

export function snapshotNode(r: MonitoredRun, snap: MonitoredRun['snapshots'][number]): TreeNode {
  const builtIn = r.kind === 'built-in';
  // Without its model code a snapshot cannot be rebuilt: the run's row below says why.
  const s = r.codeProblem && !snap.problem ? { ...snap, problem: 'the model code has moved (see the run)' } : snap;
  return {
    id: `snapshot:${s.path}`,
    kind: 'file',
    label: builtIn ? basename(s.path) : `step ${s.step}`,
    description: s.problem ? `partial: ${s.problem}` : builtIn ? `step ${s.step}` : basename(s.path),
    tooltip: s.problem ?? `${s.path}\nOpen Diagnostics rebuilds the model in your Python (trusted workspaces only)`,
    icon: s.problem ? 'warning' : 'circuit-board',
    path: s.path,
    // Built-in runs' weights are lens model files: every model action applies. A monitored snapshot needs its run.
    contextValue: s.problem ? 'badSnapshot' : builtIn ? 'model' : 'snapshot',
    collapsible: 'none',
    ...(s.problem
      ? {}
      : {
          command: builtIn
            ? { command: 'rnnMemory.selectModel', title: 'Select', args: [s.path] }
            : { command: OPEN_SNAPSHOT_COMMAND, title: 'Open Diagnostics', args: [{ run: r.dir, step: s.step }] },
        }),
  };
}

function fileNode(dir: string, name: string, icon: string): TreeNode {
  const path = join(dir, name);
  return {
    id: `file:${path}`,
    kind: 'file',
    label: name,
    icon,
    path,
    contextValue: 'runFile',
    collapsible: 'none',
    command: { command: 'vscode.open', title: 'Open', args: [path] },
  };
}

export function monitoredRunNode(r: MonitoredRun): TreeNode {
  const bad = r.state === 'bad';
  const children = bad
    ? []
    : [
        ...(r.codeProblem
          ? [{ id: `problem:${r.dir}`, kind: 'empty' as const, label: r.codeProblem, icon: 'warning', collapsible: 'none' as const }]
          : []),
        ...r.snapshots.map((s) => snapshotNode(r, s)).reverse(),
        fileNode(r.dir, r.kind === 'monitored' ? MONITOR_FILE : RUN_FILES.config, 'json'),
        fileNode(r.dir, RUN_FILES.metrics, 'graph-line'),
      ];
  return {
    id: `run:${r.id}`,
    kind: 'run',
    label: r.name,
    description: monitoredDescription(r),
    tooltip: [
      r.dir,
      r.kind === 'monitored' ? 'written by the Python Monitor' : 'a run of the lens’s trainer',
      r.problem,
      r.error && `error: ${r.error}`,
    ]
      .filter(Boolean)
      .join('\n'),
    contextValue: `monitoredRun;${r.state}`,
    icon: STATE_ICON[r.state],
    path: r.dir,
    runId: r.id,
    collapsible: bad ? 'none' : 'collapsed',
    children,
    ...(bad || r.kind !== 'monitored' ? {} : { command: { command: 'rnnMemory.showTraining', title: 'Show training', args: [r.id] } }),
  };
}

/** A watched folder: its runs, or the one line saying why there are none. */
export function watchedFolderNode(w: WatchedFolder): TreeNode {
  const children: TreeNode[] = w.problem
    ? [{ id: `empty:watched:${w.dir}`, kind: 'empty', label: w.problem, icon: 'info', collapsible: 'none' }]
    : w.runs.map(monitoredRunNode);
  return {
    id: `watched:${w.dir}`,
    kind: 'group',
    label: `Watched: ${basename(w.dir) || w.dir}`,
    description: w.problem ? w.dir : `${w.runs.length} · ${w.dir}`,
    tooltip: `${w.dir}\nAdded with "Watch Runs Folder…"; remove it with the × button`,
    icon: 'eye',
    path: w.dir,
    contextValue: 'watchedFolder',
    collapsible: 'expanded',
    children,
  };
}
