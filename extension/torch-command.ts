/**
 * "Diagnose PyTorch Model…" (palette, and the Explorer context menu of a .py file): pick the file, the
 * factory in it (read from the file, not run), the weights, the factory's keyword arguments and what the
 * model reads; the choice is written as a *.torchmodel.json in the extension's own storage
 * (core/torch/model-spec.ts) and from then on is a model like any other (Inspector, panels, compare,
 * export), diagnosed through the bridge in a worker. The user's code runs only in trusted workspaces: the
 * command is disabled in Restricted Mode, refuses there, and the worker refuses too.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { parseTorchSpec, TORCH_SPEC_SUFFIX, torchSpecLabel, torchSpecText, type TorchSpec } from '../core/torch/model-spec';
import { writeFileAtomic } from '../core/util/fs-atomic';
import { optionsArg, pathFromArg } from './args';
import type { Controller } from './controller';
import { showError } from './notify';
import { resolvePython, selectInterpreter } from './python-interpreter';
import { PYTHON_SOURCE_TEXT } from './python-path';
import { askArgs, askCells, pickFactory, pickPythonFile, pickReads, pickWeights } from './torch-picks';
import { TORCH_ACTIONS, torchErrorView, type TorchErrorView } from './torch-errors';

export const DIAGNOSE_TORCH_COMMAND = 'rnnMemory.diagnoseTorchModel';

/** A failure already shown as a notification with its action (not shown a second time). */
export class ShownError extends Error {}

export function registerTorchCommand(c: Controller): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand(DIAGNOSE_TORCH_COMMAND, async (arg?: unknown) => {
      try {
        return await diagnoseTorchModel(c, arg);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        c.log.error(`${DIAGNOSE_TORCH_COMMAND}: ${msg}`);
        if (!(e instanceof ShownError)) void showError(`RNN Memory: ${msg}`);
        throw e;
      }
    }),
  ];
}

/**
 * Argument: a .py file (Uri or path, as the Explorer passes it), or `{file, name, weights?, args?, task?, T?,
 * inputSize?, cells?}` (tests, keybindings: no picks); without one the user picks everything.
 * Returns the model's path (its *.torchmodel.json) once it is diagnosed and open.
 */
async function diagnoseTorchModel(c: Controller, arg: unknown): Promise<string | undefined> {
  if (!vscode.workspace.isTrusted) {
    const choice = await vscode.window.showWarningMessage(
      'RNN Memory: a PyTorch model runs your Python code, so Diagnose PyTorch Model is available in trusted workspaces only.',
      TORCH_ACTIONS.manageTrust,
    );
    if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
    return undefined;
  }
  const o = optionsArg(arg);
  if (o && typeof o.name === 'string') {
    const { task, T, ...rest } = o;
    const reads =
      typeof task === 'string'
        ? { task: { name: task, ...(T !== undefined ? { T } : {}) } }
        : o.inputSize
          ? {}
          : { task: { name: 'copy' } };
    return runSpec(c, parseTorchSpec({ ...rest, ...reads }, 'argument'));
  }
  const file = (o && typeof o.file === 'string' ? o.file : pathFromArg(arg)) ?? (await pickPythonFile(c.workspaceRoot()));
  if (!file) return undefined;
  if (!file.toLowerCase().endsWith('.py')) throw new Error(`${basename(file)} is not a Python file (.py)`);
  const name = await pickFactory(file);
  if (!name) return undefined;
  const weights = await pickWeights(file, name);
  if (weights === undefined) return undefined;
  const args = await askArgs(name);
  if (!args) return undefined;
  const reads = await pickReads();
  if (!reads) return undefined;
  const spec = parseTorchSpec({ file, name, ...(weights ? { weights } : {}), ...(Object.keys(args).length ? { args } : {}), ...reads });
  return runSpec(c, spec);
}

/** The spec's file in the extension's storage: one per distinct description, so each is its own model. */
function writeSpec(c: Controller, spec: TorchSpec): string {
  const root = (c.context.storageUri ?? c.context.globalStorageUri).fsPath;
  const id = createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 12);
  const path = join(root, 'torch-models', id, `${basename(spec.file).replace(/\.py$/i, '')}.${spec.name}${TORCH_SPEC_SUFFIX}`);
  mkdirSync(dirname(path), { recursive: true });
  let same = false;
  try {
    same = statSync(path).isFile() && readFileSync(path, 'utf8') === torchSpecText(spec);
  } catch {
    same = false;
  }
  // Rewritten only when it differs, so the diagnosis cached for it stays valid.
  if (!same) writeFileAtomic(path, torchSpecText(spec));
  return path;
}

/** Diagnoses the model (in a worker, with a notification), then opens its report; failures offer their fix. */
export async function runSpec(c: Controller, spec: TorchSpec): Promise<string> {
  const path = writeSpec(c, spec);
  const py = await resolvePython();
  c.log.info(`diagnosing ${torchSpecLabel(spec)} in ${py.python} (${PYTHON_SOURCE_TEXT[py.source]}), described in ${path}`);
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Diagnosing ${torchSpecLabel(spec)} in ${py.python}…` },
      () => c.diagnose(path),
    );
  } catch (e) {
    const view = torchErrorView(e instanceof Error ? e.message : String(e), py.python, PYTHON_SOURCE_TEXT[py.source]);
    c.log.error(`${torchSpecLabel(spec)}: ${view.text}`);
    // Not awaited: the command ends with the failure while the notification waits for the user.
    void offerFix(c, spec, view);
    throw new ShownError(view.text);
  }
  await c.openModelEditor(path);
  return path;
}

async function offerFix(c: Controller, spec: TorchSpec, view: TorchErrorView): Promise<void> {
  const choice = await showError(`RNN Memory: ${view.text}`, ...view.actions);
  const retry = (s: TorchSpec) => runSpec(c, s).catch(() => undefined);
  switch (choice) {
    case TORCH_ACTIONS.selectInterpreter:
      await selectInterpreter();
      return;
    case TORCH_ACTIONS.openFile: {
      const line = Math.max(0, (view.location?.line ?? 1) - 1);
      const pos = new vscode.Position(line, 0);
      await vscode.window.showTextDocument(vscode.Uri.file(view.location?.file ?? spec.file), { selection: new vscode.Range(pos, pos) });
      return;
    }
    case TORCH_ACTIONS.enterCells: {
      const cells = await askCells(spec.cells);
      if (cells) await retry({ ...spec, cells });
      return;
    }
    case TORCH_ACTIONS.chooseWeights: {
      const weights = await pickWeights(spec.file, spec.name);
      if (weights !== undefined) await retry({ ...spec, weights: weights || undefined });
      return;
    }
    case TORCH_ACTIONS.openSettings:
      await vscode.commands.executeCommand('workbench.action.openSettings', 'rnnMemory.python');
      return;
    case TORCH_ACTIONS.manageTrust:
      await vscode.commands.executeCommand('workbench.trust.manage');
      return;
  }
}
