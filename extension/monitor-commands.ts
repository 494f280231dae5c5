/**
 * Commands of monitored runs: "Watch Runs Folder…" / "Stop Watching Folder" (any folder, kept per
 * workspace: a synced or remote run folder works like the runs folder), and Open Diagnostics on a snapshot,
 * which rebuilds the model from the run's monitor.json with the snapshot's weights as a PyTorch model spec
 * (the path "Diagnose PyTorch Model…" takes), so panels, compare and export work on it. That runs the
 * user's Python: trusted workspaces only; in Restricted Mode the snapshot is listed and the command says why.
 */
import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';
import { runTarget } from '../core/cli/runs';
import { SNAPSHOT_DIR } from '../core/runs/monitored';
import { parseTorchSpec } from '../core/torch/model-spec';
import { pathFromArg } from './args';
import type { Controller } from './controller';
import type { MonitoredWatch } from './monitored-watch';
import { OPEN_SNAPSHOT_COMMAND, UNWATCH_COMMAND } from './monitored-tree';
import { showError } from './notify';
import { runSpec, ShownError } from './torch-command';
import { TORCH_ACTIONS } from './torch-errors';

export const WATCH_COMMAND = 'rnnMemory.watchRunsFolder';
export const UNTRUSTED_SNAPSHOT_TEXT =
  'RNN Memory: diagnosing a snapshot rebuilds the model with your Python code, so it is available in trusted workspaces only.';

/** {run, step} (tree rows, tests), or a snapshot's path (runs/x/snapshots/step-N.safetensors). */
export function snapshotArg(arg: unknown): { run: string; step?: number } | undefined {
  if (typeof arg === 'object' && arg !== null && typeof (arg as { run?: unknown }).run === 'string') {
    const { run, step } = arg as { run: string; step?: unknown };
    return { run, ...(Number.isInteger(step) ? { step: step as number } : {}) };
  }
  const path = pathFromArg(arg);
  const m = path ? /^step-(\d+)\.safetensors$/.exec(basename(path)) : null;
  if (!path || !m || basename(dirname(path)) !== SNAPSHOT_DIR) return undefined;
  return { run: dirname(dirname(path)), step: Number(m[1]) };
}

/** Diagnoses a run's snapshot and opens its report; returns the model path the panels use. */
async function openSnapshot(c: Controller, arg: unknown): Promise<string | undefined> {
  const target = snapshotArg(arg);
  if (!target) throw new Error('Open Diagnostics on a snapshot needs a run folder and a step (a snapshot row of the Runs tree)');
  if (!vscode.workspace.isTrusted) {
    // Not awaited: the command ends at once (nothing diagnosed) while the notice waits for the user.
    void vscode.window
      .showWarningMessage(UNTRUSTED_SNAPSHOT_TEXT, TORCH_ACTIONS.manageTrust)
      .then((choice) => choice && vscode.commands.executeCommand('workbench.trust.manage'));
    return undefined;
  }
  const t = runTarget(target.run, target.step);
  if (t.kind === 'model') {
    await c.openModelEditor(t.path);
    return t.path;
  }
  if (t.changed) c.log.warn(`${t.file} changed since the run started: the snapshot at step ${t.step} may no longer fit it`);
  const task = t.task ?? { name: 'copy' as const };
  const spec = parseTorchSpec(
    {
      file: t.file,
      name: t.name,
      weights: t.weights,
      ...(Object.keys(t.args).length ? { args: t.args } : {}),
      task: { name: task.name, ...(task.T ? { T: task.T } : {}) },
    },
    `run ${target.run}`,
  );
  return runSpec(c, spec);
}

async function watchFolder(watch: MonitoredWatch, arg: unknown): Promise<string | undefined> {
  let dir = pathFromArg(arg);
  if (!dir) {
    const picked = await vscode.window.showOpenDialog({
      title: 'Watch Runs Folder',
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: false,
      openLabel: 'Watch',
    });
    dir = picked?.[0]?.fsPath;
  }
  if (!dir) return undefined;
  await watch.addFolder(dir);
  return dir;
}

export function registerMonitorCommands(c: Controller, watch: MonitoredWatch): vscode.Disposable[] {
  const reg = (id: string, fn: (arg: unknown) => Promise<unknown>) =>
    vscode.commands.registerCommand(id, async (arg?: unknown) => {
      try {
        return await fn(arg);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        c.log.error(`${id}: ${msg}`);
        if (!(e instanceof ShownError)) void showError(`RNN Memory: ${msg}`);
        throw e;
      }
    });
  return [
    reg(WATCH_COMMAND, (arg) => watchFolder(watch, arg)),
    reg(UNWATCH_COMMAND, async (arg) => {
      const dir = pathFromArg(arg);
      return dir ? watch.removeFolder(dir) : false;
    }),
    reg(OPEN_SNAPSHOT_COMMAND, (arg) => openSnapshot(c, arg)),
  ];
}
