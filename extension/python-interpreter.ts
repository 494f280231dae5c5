/**
 * The Python and device of PyTorch diagnoses, from the settings and the Python extension (through
 * @vscode/python-extension, when that extension is installed and enabled; its absence is not an error).
 */
import { PythonExtension } from '@vscode/python-extension';
import * as vscode from 'vscode';
import type { DiagnoseWorkerInput } from '../core/diagnostics/worker-protocol';
import { readTorchSpec, torchSpecStamp } from '../core/torch/model-spec';
import { chooseDevice, choosePython, type PythonChoice } from './python-path';

/** The interpreter selected in the Python extension for the first workspace folder, if any. */
async function selectedInterpreter(): Promise<string | undefined> {
  if (!vscode.extensions.getExtension('ms-python.python')) return undefined;
  try {
    const api = await PythonExtension.api();
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const active = api.environments.getActiveEnvironmentPath(folder);
    const env = await api.environments.resolveEnvironment(active);
    return env?.executable.uri?.fsPath ?? active.path;
  } catch {
    return undefined;
  }
}

export async function resolvePython(): Promise<PythonChoice> {
  const setting = vscode.workspace.getConfiguration('rnnMemory.python').get<string>('path');
  // The setting wins without asking the Python extension (which may take a while to activate).
  return choosePython(setting, setting?.trim() ? undefined : await selectedInterpreter());
}

export function pythonDevice(): 'cpu' | 'cuda' {
  return chooseDevice(vscode.workspace.getConfiguration('rnnMemory.python').get('device'));
}

/** "Select Python Interpreter": the Python extension's picker when it is installed, else the setting. */
export async function selectInterpreter(): Promise<void> {
  if (vscode.extensions.getExtension('ms-python.python')) await vscode.commands.executeCommand('python.setInterpreter');
  else await vscode.commands.executeCommand('workbench.action.openSettings', 'rnnMemory.python.path');
}

/** The worker's `torch` options for a PyTorch model's description (read at each diagnosis). */
export async function torchWorkerOptions(specPath: string): Promise<DiagnoseWorkerInput['torch']> {
  let stamp = 'unreadable'; // the worker reads the description itself and reports what is wrong with it
  try {
    stamp = torchSpecStamp(readTorchSpec(specPath));
  } catch {
    // reported by the worker
  }
  return { python: (await resolvePython()).python, device: pythonDevice(), stamp };
}
