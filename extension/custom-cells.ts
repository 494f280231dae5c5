/**
 * "Train Custom Cell…": trains a recurrent cell the user wrote (core/custom) through the usual training
 * machinery. Custom cells execute workspace code, so they are tied to workspace trust: the command is
 * disabled in Restricted Mode (package.json enablement) and refuses there, and the process policy that the
 * training and diagnostics workers consult (core/custom/policy) follows vscode.workspace.isTrusted. The
 * user's code only ever runs in worker threads: a time-limited probe first, then the training worker.
 */
import { extname } from 'node:path';
import * as vscode from 'vscode';
import { setCustomCellPolicy } from '../core/custom/policy';
import { probeCustomCell, probeSizes } from '../core/custom/cell-check';
import { CELL_EXTENSIONS, CustomCellError } from '../core/custom/source';
import { normalizeConfig } from '../core/train/config';
import { optionsArg, pathFromArg } from './args';
import type { Controller } from './controller';
import { pickTrainConfig } from './commands';
import { configFromArgument } from './train-picks';
import { showError } from './notify';

export function registerCustomCells(c: Controller): vscode.Disposable[] {
  setCustomCellPolicy(() => vscode.workspace.isTrusted);
  return [
    vscode.commands.registerCommand('rnnMemory.trainCustomCell', async (arg?: unknown) => {
      try {
        return await trainCustomCell(c, arg);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        c.log.error(`rnnMemory.trainCustomCell: ${msg}`);
        void showCellError(e);
        throw e;
      }
    }),
  ];
}

async function showCellError(e: unknown): Promise<void> {
  const msg = e instanceof Error ? e.message : String(e);
  if (!(e instanceof CustomCellError)) {
    void showError(`RNN Memory: ${msg}`);
    return;
  }
  const choice = await showError(`RNN Memory: custom cell: ${msg}`, 'Open File');
  if (choice !== 'Open File') return;
  const pos = new vscode.Position(Math.max(0, (e.line ?? 1) - 1), Math.max(0, (e.column ?? 1) - 1));
  await vscode.window.showTextDocument(vscode.Uri.file(e.file), { selection: new vscode.Range(pos, pos) });
}

async function pickCellFile(c: Controller): Promise<string | undefined> {
  const active = vscode.window.activeTextEditor?.document.uri;
  const activeCell = active?.scheme === 'file' && CELL_EXTENSIONS.includes(extname(active.fsPath).toLowerCase()) ? active : undefined;
  const root = c.workspaceRoot();
  const uris = await vscode.window.showOpenDialog({
    title: 'Train Custom Cell: choose the cell definition',
    canSelectMany: false,
    filters: { 'Cell definitions': CELL_EXTENSIONS.map((e) => e.slice(1)) },
    defaultUri: activeCell ?? (root ? vscode.Uri.file(root) : undefined),
  });
  return uris?.[0]?.fsPath;
}

/**
 * Argument: a cell file (Uri or path) or `{file, task, T, layers, units, steps, …, wait, reveal}` (tests,
 * keybindings); without one the user picks the file and the run's settings.
 */
async function trainCustomCell(c: Controller, arg: unknown) {
  if (!vscode.workspace.isTrusted) {
    const choice = await vscode.window.showWarningMessage(
      'RNN Memory: custom cells run code from your workspace, so they are available in trusted workspaces only.',
      'Manage Workspace Trust',
    );
    if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
    return undefined;
  }
  const o = optionsArg(arg);
  const file = (o && typeof o.file === 'string' ? o.file : pathFromArg(arg)) ?? (await pickCellFile(c));
  if (!file) return undefined;
  const hasSettings = !!o && ['task', 'T', 'layers', 'units', 'steps'].some((k) => k in o);
  const base = hasSettings
    ? configFromArgument({ ...o, cell: 'brc' }, c.trainDefaults(), c.engine())
    : await pickTrainConfig(c, { fixedCell: 'brc', head: 'Train Custom Cell' });
  if (!base) return undefined;
  const info = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Checking custom cell ${vscode.workspace.asRelativePath(file)}…` },
    () => probeCustomCell(file, { sizes: probeSizes(base) }),
  );
  c.log.info(
    `custom cell "${info.name}" (${file}) checked: state size ${info.layers.map((l) => l.stateSize).join('/')}, gates [${info.gateNames.join(', ')}], ${info.backend}`,
  );
  // The run stores the path relative to its folder (core/train/run.ts).
  const config = normalizeConfig({ ...base, cell: 'custom', custom: { name: info.name, source: file, sha256: info.sha256 } });
  return c.startTraining(config, { wait: o?.wait === true, reveal: o?.reveal !== false });
}
