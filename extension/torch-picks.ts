/**
 * The questions of "Diagnose PyTorch Model…": the .py file, its factory (listed by reading the file), the
 * weights, the factory's keyword arguments (JSON, validated as typed), what the model reads, and, when the
 * bridge cannot tell them, the cell submodules. Each returns undefined when the user escapes.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, relative } from 'node:path';
import * as vscode from 'vscode';
import type { TaskKind } from '../core/tasks/index';
import { listFactories, parseCellNames, parseCount, parseTorchArgs } from './torch-inputs';

const TITLE = 'RNN Memory: Diagnose PyTorch Model';
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export async function pickPythonFile(root: string | undefined): Promise<string | undefined> {
  const active = vscode.window.activeTextEditor?.document.uri;
  const uris = await vscode.window.showOpenDialog({
    title: `${TITLE}: the Python file that builds the model`,
    canSelectMany: false,
    filters: { Python: ['py'] },
    defaultUri: active?.scheme === 'file' && active.fsPath.endsWith('.py') ? active : root ? vscode.Uri.file(root) : undefined,
  });
  return uris?.[0]?.fsPath;
}

/** The factory: one of the functions and classes the file defines at top level, or a name typed in. */
export async function pickFactory(file: string): Promise<string | undefined> {
  if (statSync(file).size > 8 << 20) throw new Error(`${basename(file)} is larger than 8 MB; is it really the model's Python file?`);
  const factories = listFactories(readFileSync(file, 'utf8'));
  const other = { label: '$(edit) Other name…', description: 'a function or class defined another way', name: '' };
  const items = factories.map((f) => ({ label: f.name, description: `${f.kind}, line ${f.line}`, name: f.name }));
  const chosen = items.length
    ? await vscode.window.showQuickPick([...items, other], {
        title: `${TITLE} (1/4)`,
        placeHolder: `The function or class in ${basename(file)} that returns the nn.Module`,
        ignoreFocusOut: true,
      })
    : other;
  if (!chosen) return undefined;
  if (chosen.name) return chosen.name;
  return vscode.window.showInputBox({
    title: `${TITLE} (1/4)`,
    prompt: `Name of the function or class in ${basename(file)} that returns the nn.Module`,
    ignoreFocusOut: true,
    validateInput: (t) => (IDENT.test(t.trim()) ? undefined : 'a Python name, e.g. make_model'),
  });
}

/** The weights: a state dict in the workspace (those next to the .py first), another file, or none (''). */
export async function pickWeights(file: string, name: string): Promise<string | undefined> {
  const found = await vscode.workspace.findFiles('**/*.{pt,pth,safetensors}', '**/node_modules/**', 500);
  const dir = dirname(file);
  const paths = found.map((u) => u.fsPath).sort((a, b) => Number(dirname(b) === dir) - Number(dirname(a) === dir) || a.localeCompare(b));
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const items = [
    ...paths.map((p) => ({ label: basename(p), description: root ? relative(root, dirname(p)) || '.' : dirname(p), path: p })),
    { label: '$(folder-opened) Browse…', description: '.pt, .pth or .safetensors', path: 'browse' },
    { label: '$(circle-slash) No weights', description: `${name}'s own initialisation`, path: '' },
  ];
  const chosen = await vscode.window.showQuickPick(items, {
    title: `${TITLE} (2/4)`,
    placeHolder: 'Weights (state dict)',
    ignoreFocusOut: true,
  });
  if (!chosen) return undefined;
  if (chosen.path !== 'browse') return chosen.path;
  const uris = await vscode.window.showOpenDialog({
    title: `${TITLE}: weights`,
    canSelectMany: false,
    filters: { 'PyTorch state dicts': ['pt', 'pth', 'safetensors'] },
    defaultUri: vscode.Uri.file(dir),
  });
  return uris?.[0]?.fsPath;
}

/** The factory's keyword arguments as JSON (empty: none), checked as the user types. */
export async function askArgs(name: string): Promise<Record<string, unknown> | undefined> {
  const text = await vscode.window.showInputBox({
    title: `${TITLE} (3/4)`,
    prompt: `Keyword arguments of ${name}, as a JSON object (leave empty for none)`,
    placeHolder: '{"n_hidden": 64}',
    ignoreFocusOut: true,
    validateInput: (t) => {
      const r = parseTorchArgs(t);
      return r.ok ? undefined : r.error;
    },
  });
  if (text === undefined) return undefined;
  const r = parseTorchArgs(text);
  return r.ok ? r.value : undefined;
}

type Reads = { task: { name: TaskKind; T?: number } } | { inputSize: number };

/** What the model reads: one of our tasks (then its data is generated), or random sequences of n features. */
export async function pickReads(): Promise<Reads | undefined> {
  const items: { label: string; description: string; value: TaskKind | 'random' }[] = [
    { label: 'Copy first input', description: '1 input per step, recall x₁ from h_T', value: 'copy' },
    { label: 'Denoise', description: '2 inputs per step (value, marker), 5 outputs', value: 'denoise' },
    { label: 'Sequential MNIST', description: '1 pixel per step, 10 classes', value: 'smnist' },
    { label: 'Random sequences…', description: 'N(0, 1) inputs of a size you give (no task loss)', value: 'random' },
  ];
  const chosen = await vscode.window.showQuickPick(items, {
    title: `${TITLE} (4/4)`,
    placeHolder: 'What the model reads',
    ignoreFocusOut: true,
  });
  if (!chosen) return undefined;
  if (chosen.value === 'smnist') return { task: { name: 'smnist' } };
  const random = chosen.value === 'random';
  const what = random ? 'Input features per step' : 'Sequence length T';
  const text = await vscode.window.showInputBox({
    title: `${TITLE} (4/4)`,
    prompt: random ? what : `${what} (each step is one call of your cells in Python: shorter is quicker)`,
    value: random ? '1' : chosen.value === 'copy' ? '100' : '400',
    ignoreFocusOut: true,
    validateInput: (t) => {
      const r = parseCount(t, what, random ? 65_536 : 100_000);
      return r.ok ? undefined : r.error;
    },
  });
  if (text === undefined) return undefined;
  const n = parseCount(text, what, 100_000);
  if (!n.ok) return undefined;
  return random ? { inputSize: n.value } : { task: { name: chosen.value as TaskKind, T: n.value } };
}

/** Cell submodule names, when the bridge found none or several stacks. */
export async function askCells(current?: string[]): Promise<string[] | undefined> {
  const text = await vscode.window.showInputBox({
    title: `${TITLE}: cells`,
    prompt: 'The cell submodules, bottom layer first, comma-separated (their names in model.named_modules())',
    placeHolder: 'rnn1, rnn2',
    value: current?.join(', '),
    ignoreFocusOut: true,
    validateInput: (t) => {
      const r = parseCellNames(t);
      return r.ok ? undefined : r.error;
    },
  });
  if (text === undefined) return undefined;
  const r = parseCellNames(text);
  return r.ok ? r.value : undefined;
}
