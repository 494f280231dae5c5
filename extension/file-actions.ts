/** File operations of the host: exports chosen in webviews, model paths from arguments, and deletion. */
import { existsSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { RUN_FILES } from '../core/train/run';
import { writeFileAtomic } from '../core/util/fs-atomic';
import { isInside } from './runs';
import type { HostSettings } from './settings';

/**
 * Writes an export chosen in a webview. The file name was validated (no path parts). Tests set
 * RNN_MEMORY_EXPORT_DIR to skip the save dialog.
 */
export async function saveExport(
  settings: HostSettings,
  log: vscode.LogOutputChannel,
  filename: string,
  data: Uint8Array,
  filters: Record<string, string[]>,
): Promise<string | undefined> {
  const direct = process.env.RNN_MEMORY_EXPORT_DIR;
  let uri: vscode.Uri | undefined;
  if (direct) uri = vscode.Uri.file(join(direct, basename(filename)));
  else {
    const root = settings.workspaceRoot();
    uri = await vscode.window.showSaveDialog({
      defaultUri: root ? vscode.Uri.file(join(root, filename)) : undefined,
      filters,
      title: `Export ${filename}`,
    });
  }
  if (!uri) return undefined;
  // Local files are written atomically, so nothing (a file watcher, a test) ever reads half an export.
  if (uri.scheme === 'file') writeFileAtomic(uri.fsPath, data);
  else await vscode.workspace.fs.writeFile(uri, data);
  log.info(`exported ${uri.fsPath} (${data.length} bytes)`);
  vscode.window.setStatusBarMessage(`$(check) Saved ${basename(uri.fsPath)}`, 5000);
  return uri.fsPath;
}

/** A model path from a file or a run folder (its model.safetensors; a TF.js export folder: its model.json). */
export function resolveModelPath(p: string): string {
  try {
    if (statSync(p).isDirectory())
      return !existsSync(join(p, RUN_FILES.model)) && existsSync(join(p, 'model.json')) ? join(p, 'model.json') : join(p, RUN_FILES.model);
  } catch {
    // not there: let the caller report it
  }
  return p;
}

export interface DeleteDeps {
  settings: HostSettings;
  log: vscode.LogOutputChannel;
  isTraining(runId: string): boolean;
  /** Closes panels and clears the selection of what was deleted, then rescans. */
  afterDelete(path: string, runId: string | undefined): Promise<void>;
}

/** Deletes a run folder or a model file after a modal confirmation (skipped only when `confirmed`). */
export async function deleteItem(d: DeleteDeps, path: string, confirmed = false): Promise<boolean> {
  const runsDir = d.settings.runsDir();
  const isRun = isInside(path, runsDir) && dirname(path) === runsDir.replace(/[\\/]+$/, '');
  const runId = isRun ? basename(path) : undefined;
  if (runId && d.isTraining(runId)) {
    void vscode.window.showWarningMessage(`Run ${runId} is training: stop it before deleting it.`);
    return false;
  }
  if (!existsSync(path)) return false;
  if (!confirmed) {
    const what = runId ? `the run "${runId}" and all its files` : `the model file "${basename(path)}"`;
    const choice = await vscode.window.showWarningMessage(`Delete ${what}? This cannot be undone.`, { modal: true }, 'Delete');
    if (choice !== 'Delete') return false;
  }
  rmSync(path, { recursive: true, force: true });
  d.log.info(`deleted ${path}`);
  await d.afterDelete(path, runId);
  return true;
}
