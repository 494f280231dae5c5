/**
 * A PyTorch model as one small JSON file (`*.torchmodel.json`): the user's Python file, the factory in it,
 * the weights, the factory's keyword arguments, the cells and what the model reads. The extension writes one
 * into its own storage per model the user picks, so the model has a path like every other model (panels,
 * compare, export, the Inspector and the diagnosis cache key on paths); the diagnostics worker opens it
 * through the bridge. Nothing in it runs by itself: the worker refuses it unless user code may run.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute } from 'node:path';
import type { ReadoutActivation, TaskInfo } from '../model/architecture';
import type { TaskKind } from '../tasks/index';

export const TORCH_SPEC_SUFFIX = '.torchmodel.json';
const FORMAT = 'rnn-memory-lens-torch';

export interface TorchSpec {
  /** Absolute path of the user's Python file. */
  file: string;
  /** The function or class in it that returns the nn.Module. */
  name: string;
  /** Absolute path of the state dict (.pt/.pth/.safetensors); absent: the module's own initialisation. */
  weights?: string;
  /** Keyword arguments of the factory. */
  args?: Record<string, unknown>;
  /** Cell submodules, bottom first (absent: found automatically). */
  cells?: string[];
  /** The task the model reads (inputs and readout follow from it), or … */
  task?: { name: TaskKind; T?: number };
  /** … the features per step of random probe sequences (linear readout, no task). */
  inputSize?: number;
}

/** Inputs per step and readout of the built-in tasks (a PyTorch model has no stored task). */
export const TASK_SHAPES: Record<TaskKind, { inputSize: number; activation: ReadoutActivation }> = {
  copy: { inputSize: 1, activation: 'linear' },
  denoise: { inputSize: 2, activation: 'linear' },
  smnist: { inputSize: 1, activation: 'softmax' },
};

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MODULE_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/;

export function isTorchSpecPath(path: string): boolean {
  return path.toLowerCase().endsWith(TORCH_SPEC_SUFFIX);
}

/** Validates a spec (from a file or a command argument); one error naming the first bad field. */
export function parseTorchSpec(json: unknown, what = 'PyTorch model'): TorchSpec {
  const o = json as Record<string, unknown> | null;
  const bad = (m: string) => new Error(`${what}: ${m}`);
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw bad('not a JSON object');
  const { file, name, weights, args, cells, task, inputSize } = o;
  if (typeof file !== 'string' || !isAbsolute(file) || !file.toLowerCase().endsWith('.py'))
    throw bad('"file" must be the absolute path of a .py file');
  if (typeof name !== 'string' || !IDENT.test(name)) throw bad('"name" must be a Python identifier (the factory in the file)');
  if (weights !== undefined && (typeof weights !== 'string' || !isAbsolute(weights) || !/\.(pt|pth|safetensors)$/i.test(weights)))
    throw bad('"weights" must be the absolute path of a .pt, .pth or .safetensors file');
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args)))
    throw bad('"args" must be a JSON object of keyword arguments');
  if (
    cells !== undefined &&
    (!Array.isArray(cells) || cells.length === 0 || !cells.every((c) => typeof c === 'string' && MODULE_PATH.test(c)))
  )
    throw bad('"cells" must be a list of submodule names such as rnn1 or layers.0');
  let t: TorchSpec['task'];
  if (task !== undefined) {
    const k = task as { name?: unknown; T?: unknown };
    if (typeof k !== 'object' || k === null || !(typeof k.name === 'string' && k.name in TASK_SHAPES))
      throw bad('"task.name" must be copy, denoise or smnist');
    if (k.T !== undefined && !(Number.isInteger(k.T) && (k.T as number) >= 1 && (k.T as number) <= 100_000))
      throw bad('"task.T" must be an integer from 1 to 100000');
    t = { name: k.name as TaskKind, ...(k.T !== undefined ? { T: k.T as number } : {}) };
  }
  if (inputSize !== undefined && !(Number.isInteger(inputSize) && (inputSize as number) >= 1 && (inputSize as number) <= 65_536))
    throw bad('"inputSize" must be an integer from 1 to 65536');
  if ((t === undefined) === (inputSize === undefined)) throw bad('give either "task" or "inputSize"');
  return {
    file,
    name,
    ...(weights !== undefined ? { weights: weights as string } : {}),
    ...(args !== undefined ? { args: args as Record<string, unknown> } : {}),
    ...(cells !== undefined ? { cells: cells as string[] } : {}),
    ...(t ? { task: t } : { inputSize: inputSize as number }),
  };
}

/** The file's text: the spec with its format tag. */
export function torchSpecText(spec: TorchSpec): string {
  return JSON.stringify({ format: FORMAT, version: 1, ...spec }, null, 2) + '\n';
}

/** Reads and validates a spec file (at most 1 MB: it is a few lines). */
export function readTorchSpec(path: string): TorchSpec {
  if (statSync(path).size > 1 << 20) throw new Error(`${basename(path)}: too large for a PyTorch model description`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${basename(path)}: not JSON (${(e as Error).message})`);
  }
  if ((json as { format?: unknown } | null)?.format !== FORMAT) throw new Error(`${basename(path)}: not a PyTorch model description`);
  return parseTorchSpec(json, basename(path));
}

/** "models.py:make_model" (the CLI's --torch form), with the weights' name when there are weights. */
export function torchSpecLabel(spec: TorchSpec): string {
  return `${basename(spec.file)}:${spec.name}${spec.weights ? ` (${basename(spec.weights)})` : ''}`;
}

/** Inputs, readout and task of the model the spec describes. */
export function torchSpecShape(spec: TorchSpec): { inputSize: number; activation: ReadoutActivation; task?: TaskInfo } {
  if (spec.task) return { ...TASK_SHAPES[spec.task.name], task: { name: spec.task.name, ...(spec.task.T ? { T: spec.task.T } : {}) } };
  return { inputSize: spec.inputSize ?? 1, activation: 'linear' };
}

/** Size and modification time of the .py file and the weights: a new stamp means an edited model. */
export function torchSpecStamp(spec: TorchSpec): string {
  const of = (p: string | undefined) => {
    if (!p) return '-';
    try {
      const st = statSync(p);
      return `${st.size}@${st.mtimeMs}`;
    } catch {
      return 'missing';
    }
  };
  return `${of(spec.file)};${of(spec.weights)}`;
}
