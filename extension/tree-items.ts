/**
 * The Runs & Models tree as plain data (pure): the vscode adapter turns each node into a TreeItem.
 * contextValue is a ';'-separated flag list that package.json menus match with regexes.
 */
import { basename, dirname, join } from 'node:path';
import type { Architecture } from '../core/model/architecture';
import { isTorchSpecPath, TORCH_SPEC_SUFFIX } from '../core/torch/model-spec';
import { RUN_FILES } from '../core/train/run';
import { cellLabel, runStateWord } from '../shared/labels';
import { fmt } from '../shared/numbers';
import type { TrainingSnapshot } from '../shared/protocol';
import { runNumbersText } from '../shared/run-summary';
import { MODEL_FORMATS_TEXT, modelFormatName, type ModelEntry } from './model-sniff';
import type { MonitoredRun, WatchedFolder } from './monitored-runs';
import { monitoredRunNode, watchedFolderNode } from './monitored-tree';
import type { RunInfo } from './runs';
import type { TreeNode } from './tree-node';

export type { ModelEntry };

export type { TreeNode };

export function architectureSummary(a: Architecture): string {
  const cells = [...new Set(a.layers.map((l) => cellLabel(l.cell, l.custom?.name)))].join('/');
  const units = a.layers.every((l) => l.units === a.layers[0].units)
    ? `${a.layers.length}×${a.layers[0].units}`
    : a.layers.map((l) => l.units).join('-');
  return `${cells} ${units}`;
}

export function modelNode(m: ModelEntry, idPrefix = 'model:'): TreeNode {
  const a = m.architecture;
  const dir = dirname(m.relPath);
  const torch = isTorchSpecPath(m.path);
  return {
    id: idPrefix + m.path,
    kind: 'model',
    // A PyTorch model's description lives in the extension's storage: named FILE.NAME, without that folder.
    label: torch ? basename(m.path).slice(0, -TORCH_SPEC_SUFFIX.length) : basename(m.path),
    description: `${a ? architectureSummary(a) : modelFormatName(m.path)}${dir && dir !== '.' && !torch ? ` · ${dir}` : ''}`,
    tooltip: [
      m.relPath,
      a
        ? `${a.layers.length} layer${a.layers.length === 1 ? '' : 's'}: ${a.layers.map((l) => `${cellLabel(l.cell, l.custom?.name)}(${l.units})`).join(' → ')}`
        : `${modelFormatName(m.path)}: open it to read its architecture`,
      a ? `input ${a.inputSize}, readout ${a.readout.units} ${a.readout.activation}` : '',
      a?.task ? `task ${a.task.name}${a.task.T ? ` T=${a.task.T}` : ''}` : '',
      m.paramCount !== undefined ? `${m.paramCount.toLocaleString('en-US')} parameters` : '',
    ]
      .filter(Boolean)
      .join('\n'),
    contextValue: 'model',
    icon: 'circuit-board',
    path: m.path,
    collapsible: 'none',
    command: { command: 'rnnMemory.selectModel', title: 'Select', args: [m.path] },
  };
}

const STATE_ICON: Record<string, string> = {
  running: 'sync~spin',
  completed: 'pass',
  stopped: 'debug-pause',
  interrupted: 'debug-pause',
  failed: 'error',
  unknown: 'question',
};

export function runDescription(run: RunInfo, live?: TrainingSnapshot): string {
  if (live && live.status === 'running') {
    const nums = runNumbersText(live);
    return `step ${live.step}/${live.totalSteps}${nums ? ` · ${nums}` : ''}`;
  }
  const st = run.status;
  const steps = st ? `step ${st.step}/${st.totalSteps || run.config?.steps || '?'}` : '';
  const loss = st?.lastLoss !== undefined ? ` · loss ${fmt(st.lastLoss)}` : '';
  const resumable = run.resumable ? ' · resumable' : '';
  return `${runStateWord(run.state)}${steps ? ` · ${steps}` : ''}${loss}${resumable}`;
}

export function runNode(run: RunInfo, live?: TrainingSnapshot): TreeNode {
  const isLive = !!live && live.status === 'running';
  const flags = [
    'run',
    isLive ? 'live' : runStateWord(run.state),
    run.resumable && !isLive ? 'resumable' : '',
    run.hasModel ? 'hasModel' : '',
  ].filter(Boolean);
  const children: TreeNode[] = [];
  const file = (name: string, icon: string, ctx: string, description?: string) =>
    children.push({
      id: `file:${join(run.dir, name)}`,
      kind: 'file',
      label: name,
      ...(description ? { description } : {}),
      icon,
      path: join(run.dir, name),
      contextValue: ctx,
      collapsible: 'none',
      command:
        ctx === 'model'
          ? { command: 'rnnMemory.selectModel', title: 'Select', args: [join(run.dir, name)] }
          : { command: 'vscode.open', title: 'Open', args: [join(run.dir, name)] },
    });
  if (run.hasModel) file(RUN_FILES.model, 'circuit-board', 'model');
  if (run.hasBest) {
    const b = run.status?.best;
    file(
      RUN_FILES.best,
      'star-full',
      'model',
      b ? `best test ${b.metricName === 'accuracy' ? 'accuracy' : 'MSE'} ${fmt(b.metric)} @ ${b.step}` : undefined,
    );
  }
  file(RUN_FILES.config, 'json', 'runFile');
  file(RUN_FILES.metrics, 'graph-line', 'runFile');
  return {
    id: `run:${run.id}`,
    kind: 'run',
    label: run.label,
    description: runDescription(run, live),
    tooltip: [
      `${run.id}`,
      run.dir,
      run.status?.error ? `error: ${run.status.error}` : '',
      run.resumable && !isLive ? 'Interrupted: can be resumed from its checkpoint' : '',
    ]
      .filter(Boolean)
      .join('\n'),
    contextValue: flags.join(';'),
    icon: isLive ? STATE_ICON.running : STATE_ICON[runStateWord(run.state)],
    path: run.dir,
    runId: run.id,
    collapsible: 'collapsed',
    children,
    command: { command: 'rnnMemory.showTraining', title: 'Show training', args: [run.id] },
  };
}

/** Models, Runs (the lens's and monitored ones) and one group per watched folder; an empty group shows one hint row. */
export function buildTree(
  models: readonly ModelEntry[],
  runs: readonly RunInfo[],
  live: ReadonlyMap<string, TrainingSnapshot>,
  runsFolder: string,
  monitored: readonly MonitoredRun[] = [],
  watched: readonly WatchedFolder[] = [],
): TreeNode[] {
  const modelChildren = models.length
    ? models.map((m) => modelNode(m))
    : [
        {
          id: 'empty:models',
          kind: 'empty' as const,
          label: `No model files (${MODEL_FORMATS_TEXT}) in the workspace`,
          collapsible: 'none' as const,
        },
      ];
  const runChildren =
    runs.length + monitored.length
      ? [...monitored.map(monitoredRunNode), ...runs.map((r) => runNode(r, live.get(r.id)))]
      : [
          {
            id: 'empty:runs',
            kind: 'empty' as const,
            label: `No runs in ${runsFolder}/ yet: run "Train on Copy Task"`,
            collapsible: 'none' as const,
          },
        ];
  return [
    {
      id: 'group:models',
      kind: 'group',
      label: 'Models',
      description: String(models.length),
      icon: 'database',
      collapsible: 'expanded',
      children: modelChildren,
      contextValue: 'modelsGroup',
    },
    {
      id: 'group:runs',
      kind: 'group',
      label: 'Runs',
      description: String(runs.length + monitored.length),
      icon: 'history',
      collapsible: 'expanded',
      children: runChildren,
      contextValue: 'runsGroup',
    },
    ...watched.map(watchedFolderNode),
  ];
}
