/**
 * Command handlers. Every command also takes arguments (a config object, a Uri, a path, a run id, a tree
 * node) so it can run without quick picks from tests, keybindings and webviews; the return values are
 * plain data for the same callers.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { RUN_FILES } from '../core/train/run';
import { writeFileAtomic } from '../core/util/fs-atomic';
import type { CellKind } from '../core/cells/types';
import type { TaskName, TrainConfig } from '../core/train/types';
import { TRAIN_CONFIG_KEYS } from '../core/train/config';
import { answersArg, optionsArg, pathFromArg, pathsFromArgs, runIdFromArg } from './args';
import type { Controller } from './controller';
import type { PanelView } from './panels';
import { MODEL_FILE_EXTENSIONS, MODEL_FORMATS_TEXT } from './model-sniff';
import { renderReportHtml } from './report-export';
import { cellItems, configFromArgument, configFromPicks, lengthItems, sizeItems, stepItems, taskItems, type PickItem } from './train-picks';
import { showError } from './notify';

async function pick<V>(items: PickItem<V>[], title: string, placeHolder: string): Promise<V | undefined> {
  const chosen = await vscode.window.showQuickPick(
    items.map((i) => ({ label: i.label, description: i.description, value: i.value })),
    { title, placeHolder, ignoreFocusOut: true },
  );
  return chosen?.value;
}

export interface PickTrainOptions {
  /** Ask no task: train on this one. */
  fixedTask?: TaskName;
  /** Ask no cell: the caller supplies it (custom cells put a placeholder here and replace it). */
  fixedCell?: CellKind;
  /** Quick-pick title, e.g. "Train on Copy Task". */
  head?: string;
}

/** Asks task, cell, T, layers × units and steps (skipping what is fixed); undefined when the user escapes. */
export async function pickTrainConfig(c: Controller, opts: PickTrainOptions = {}): Promise<TrainConfig | undefined> {
  const d = c.trainDefaults();
  const { fixedTask, fixedCell } = opts;
  const head = opts.head ?? (fixedTask === 'copy' ? 'Train on Copy Task' : 'Train');
  const n = 5 - (fixedTask ? 1 : 0) - (fixedCell ? 1 : 0);
  let i = 0;
  const title = () => `RNN Memory: ${head} (${++i}/${n})`;
  const task = fixedTask ?? (await pick(taskItems(), title(), 'Task'));
  if (!task) return undefined;
  const cell = fixedCell ?? (await pick(cellItems(d), title(), 'Recurrent cell'));
  if (!cell) return undefined;
  let T: number | undefined;
  if (task !== 'smnist') {
    T = await pick(lengthItems(task, d), title(), task === 'copy' ? 'Sequence length T (steps to remember x₁)' : 'Noise steps T');
    if (T === undefined) return undefined;
  } else i++;
  const size = await pick(sizeItems(task, d), title(), 'Layers × units');
  if (!size) return undefined;
  const choice = await pick(stepItems(d, task), title(), 'Training steps');
  if (!choice) return undefined;
  return configFromPicks({ task, cell, T, size, ...choice }, d, c.engine());
}

function hasConfigKeys(o: Record<string, unknown> | undefined): o is Record<string, unknown> {
  return !!o && (TRAIN_CONFIG_KEYS.some((k) => k in o) || o.config !== undefined);
}

async function train(c: Controller, arg: unknown, fixedTask?: TaskName) {
  const o = optionsArg(arg);
  let config: TrainConfig | undefined;
  if (hasConfigKeys(o)) {
    const src = typeof o.config === 'object' && o.config !== null ? o.config : o;
    config = configFromArgument(src, c.trainDefaults(), c.engine(), fixedTask);
  } else {
    config = await pickTrainConfig(c, { fixedTask });
  }
  if (!config) return undefined;
  return c.startTraining(config, { wait: o?.wait === true, reveal: o?.reveal !== false });
}

/** All runs with a model, and model files, for pickers. */
function modelChoices(c: Controller): { label: string; description: string; path: string }[] {
  const out = c.modelEntries().map((m) => ({ label: basename(m.path), description: m.relPath, path: m.path }));
  for (const r of c.runs())
    if (r.hasModel) out.push({ label: r.id, description: `${r.label} · ${r.state}`, path: join(r.dir, RUN_FILES.model) });
  return out;
}

async function pickModel(c: Controller, title: string): Promise<string | undefined> {
  const choices = modelChoices(c);
  const browse = { label: '$(folder-opened) Browse…', description: `choose a model file (${MODEL_FORMATS_TEXT})`, path: '' };
  const chosen = choices.length ? await vscode.window.showQuickPick([...choices, browse], { title, placeHolder: 'Model' }) : browse;
  if (!chosen) return undefined;
  if (chosen.path) return chosen.path;
  const uris = await vscode.window.showOpenDialog({
    title,
    canSelectMany: false,
    filters: { 'Recurrent models': [...MODEL_FILE_EXTENSIONS] },
    defaultUri: c.workspaceRoot() ? vscode.Uri.file(c.workspaceRoot()!) : undefined,
  });
  return uris?.[0]?.fsPath;
}

/** The model an argument names, else the selected model, else one the user picks. */
async function modelFromArg(c: Controller, arg: unknown, title: string): Promise<string | undefined> {
  const p = pathFromArg(arg);
  if (p) return c.resolveModelPath(p);
  return c.currentModel ?? (await pickModel(c, title));
}

async function pickRun(
  c: Controller,
  title: string,
  filter: (r: ReturnType<Controller['runs']>[number]) => boolean,
): Promise<string | undefined> {
  const runs = c.runs().filter(filter);
  if (runs.length === 0) return undefined;
  const chosen = await vscode.window.showQuickPick(
    runs.map((r) => ({
      label: r.label,
      description: `${r.id} · ${r.state} · step ${r.status?.step ?? 0}/${r.status?.totalSteps ?? r.config?.steps ?? '?'}`,
      id: r.id,
    })),
    { title, placeHolder: 'Run' },
  );
  return chosen?.id;
}

export function registerCommands(c: Controller): vscode.Disposable[] {
  const reg = (id: string, fn: (...args: unknown[]) => unknown) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        c.log.error(`${id}: ${msg}`);
        void showError(`RNN Memory: ${msg}`);
        throw e;
      }
    });
  const showView = (view: Exclude<PanelView, 'training'>, title: string) => async (arg: unknown) => {
    const path = await modelFromArg(c, arg, title);
    if (!path) return undefined;
    if (!existsSync(path)) throw new Error(`${path} does not exist`);
    return { title: c.showDiagnostics(view, path).panel.title };
  };

  return [
    reg('rnnMemory.trainCopyTask', (arg) => train(c, arg, 'copy')),
    reg('rnnMemory.trainTask', (arg) => train(c, arg)),
    reg('rnnMemory.stopTraining', async (arg) => {
      let id = runIdFromArg(arg);
      const live = c.manager.all();
      if (!id) {
        if (live.length === 0) {
          void vscode.window.showInformationMessage('RNN Memory: no training is running.');
          return 0;
        }
        id = live.length === 1 ? live[0].id : await pickRun(c, 'Stop Training', (r) => r.state === 'running');
        if (!id) return 0;
      }
      return c.stopTraining(id);
    }),
    reg('rnnMemory.resumeRun', async (arg) => {
      const o = optionsArg(arg);
      const id =
        runIdFromArg(arg) ??
        (o && typeof o.runId === 'string' ? o.runId : undefined) ??
        (await pickRun(c, 'Resume Run', (r) => r.resumable));
      if (!id) {
        if (!c.runs().some((r) => r.resumable)) void vscode.window.showInformationMessage('RNN Memory: no interrupted run to resume.');
        return undefined;
      }
      const steps = typeof o?.steps === 'number' ? o.steps : undefined;
      return c.resumeRun(id, { steps, wait: o?.wait === true, reveal: o?.reveal !== false });
    }),
    reg('rnnMemory.openModel', async (arg, opts) => {
      const p = pathFromArg(arg);
      let path = p ? c.resolveModelPath(p) : undefined;
      if (!path) {
        const uris = await vscode.window.showOpenDialog({
          title: 'Open RNN Memory Lens model',
          canSelectMany: false,
          filters: {
            'Recurrent models': [...MODEL_FILE_EXTENSIONS],
            'RNN Memory Lens / PyTorch safetensors': ['safetensors'],
            'PyTorch checkpoints': ['pt', 'pth'],
            'Keras models': ['keras', 'h5'],
            'TF.js model.json': ['json'],
          },
          defaultUri: c.workspaceRoot() ? vscode.Uri.file(c.workspaceRoot()!) : undefined,
        });
        path = uris?.[0]?.fsPath;
      }
      if (!path) return undefined;
      // Answers for a foreign file's open questions, e.g. {answers: {'readout.activation': 'linear'}} (tests, scripts).
      const answers = answersArg(optionsArg(arg)?.answers ?? optionsArg(opts)?.answers);
      if (answers) c.setModelAnswers(path, answers);
      await c.openModelEditor(path);
      return path;
    }),
    reg('rnnMemory.openDiagnostics', async (arg) => {
      const path = await modelFromArg(c, arg, 'Open Diagnostics');
      if (path) await c.openModelEditor(path);
      return path;
    }),
    reg('rnnMemory.showBistabilityMap', showView('bistability', 'Show Bistability Map')),
    reg('rnnMemory.showGradientFlow', showView('gradientFlow', 'Show Gradient Flow')),
    reg('rnnMemory.showRetention', showView('retention', 'Show Memory Retention')),
    reg('rnnMemory.showFixedPoints', showView('fixedPoints', 'Show Fixed Points')),
    reg('rnnMemory.showTraining', async (arg) => {
      const id = runIdFromArg(arg) ?? c.manager.all().at(-1)?.id ?? (await pickRun(c, 'Show Training', () => true));
      if (!id) return undefined;
      c.selectRun(id);
      return { title: c.showTraining(id).panel.title };
    }),
    reg('rnnMemory.compareRuns', async (first, rest) => {
      let paths = pathsFromArgs(first, rest).map((p) => c.resolveModelPath(p));
      if (paths.length < 2) {
        const chosen = await vscode.window.showQuickPick(
          modelChoices(c).map((m) => ({ ...m, picked: paths.includes(m.path) })),
          { title: 'Compare Runs', placeHolder: 'Choose two or more models or runs', canPickMany: true },
        );
        if (!chosen) return undefined;
        paths = chosen.map((m) => m.path);
      }
      if (paths.length < 2) {
        void vscode.window.showInformationMessage('RNN Memory: choose at least two models to compare.');
        return undefined;
      }
      return { title: c.compare(paths).panel.title };
    }),
    reg('rnnMemory.exportReport', async (arg, out) => {
      const path = await modelFromArg(c, arg, 'Export HTML Report');
      if (!path) return undefined;
      const report = await c.diagnose(path);
      const html = renderReportHtml(report, { assetsDir: join(c.context.extensionPath, 'dist', 'webview'), label: c.modelName(path) });
      const o = optionsArg(out);
      let target = typeof out === 'string' ? out : typeof o?.out === 'string' ? o.out : undefined;
      if (!target) {
        const root = c.workspaceRoot();
        const name = `${c.modelName(path).replace(/\.(safetensors|pth?|keras|h5|json)$/i, '')}-report.html`;
        const uri = await vscode.window.showSaveDialog({
          title: 'Export HTML Report',
          filters: { 'HTML report': ['html'] },
          defaultUri: vscode.Uri.file(join(root ?? '', name)),
        });
        target = uri?.fsPath;
      }
      if (!target) return undefined;
      writeFileAtomic(target, html);
      c.log.info(`report written to ${target}`);
      if (typeof out !== 'string' && !o) {
        void vscode.window.showInformationMessage(`Report saved: ${basename(target)}`, 'Open').then((ch) => {
          if (ch) void vscode.env.openExternal(vscode.Uri.file(target!));
        });
      }
      return target;
    }),
    reg('rnnMemory.deleteItem', async (arg, opts) => {
      const p = pathFromArg(arg);
      if (!p) return false;
      return c.deleteItem(p, optionsArg(opts)?.confirmed === true);
    }),
    reg('rnnMemory.reveal', async (arg) => {
      const p = pathFromArg(arg);
      if (p) await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(p));
    }),
    reg('rnnMemory.refresh', () => c.refresh(true)),
    reg('rnnMemory.selectModel', (arg) => {
      const p = pathFromArg(arg);
      if (p) c.selectModel(c.resolveModelPath(p));
    }),
    reg('rnnMemory.selectRun', (arg) => {
      const id = runIdFromArg(arg);
      if (id) c.selectRun(id);
    }),
  ];
}
