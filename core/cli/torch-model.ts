/**
 * The CLI's PyTorch model flags (diagnose and trace): --torch FILE.py:NAME [--weights W] [--torch-args JSON]
 * [--cells a,b] [--python PY] [--device cpu|cuda] [--torch-timeout S]. The model runs in the user's own
 * Python through the bridge (core/torch); the CLI says on stderr what it runs.
 */
import { existsSync } from 'node:fs';
import type { ReadoutActivation, TaskInfo } from '../model/architecture';
import type { TaskKind } from '../tasks/index';
import { openTorchModel, type TorchModel } from '../torch/bridge';
import { TASK_SHAPES } from '../torch/model-spec';
import { helperScriptPath, pythonCommand } from '../torch/python';
import { UsageError, type FlagReader } from './args';

export const TORCH_HELP = `PyTorch models (diagnose and trace; runs your code in your Python):
  --torch FILE.py:NAME  NAME is a function or class in FILE.py returning an nn.Module whose forward(x) takes
                     x [B, T, F] and returns [B, out] (from h_T) or [B, T, out] (every step) through an
                     nn.Linear of the top cell's state; its cells are the submodules called once per step
                     as cell(x_t, state) (instead of --model)
  --weights FILE     state dict (.pt/.pth, loaded with weights_only=True, or .safetensors)
  --torch-args JSON  keyword arguments of NAME (e.g. '{"n_hidden": 64}')
  --cells A,B        the cell submodules, bottom first (default: found automatically)
  --python PY        Python with torch >= 2.0 (default: $RNN_MEMORY_PYTHON, else python3)
  --device cpu|cuda  where the model runs (cpu)
  --torch-timeout S  stop the Python helper when one request takes longer (600)`;

export interface TorchFlags {
  target: string;
  file: string;
  name: string;
  weights?: string;
  args?: Record<string, unknown>;
  cells?: string[];
  python: string;
  device: 'cpu' | 'cuda';
  timeoutMs: number;
}

/** A model named by a monitored run (diagnose --run): its factory, arguments and snapshot. */
export interface RunModelRef {
  file: string;
  name: string;
  weights: string;
  args: Record<string, unknown>;
}

/**
 * The PyTorch flags, or undefined without --torch (then none of the others may be given). With `run`, the
 * run names the model and its weights, and only the runtime flags (--python, --device, --cells,
 * --torch-timeout) apply.
 */
export function readTorchFlags(f: FlagReader, run?: RunModelRef): TorchFlags | undefined {
  if (run) {
    for (const flag of ['torch', 'weights', 'torch-args'])
      if (f.string(flag) !== undefined) throw new UsageError(`--run names the model and its weights: --${flag} does not apply`);
  }
  const target = run ? `${run.file}:${run.name}` : f.string('torch');
  const weights = run ? run.weights : f.string('weights');
  const argsText = run ? JSON.stringify(run.args) : f.string('torch-args');
  const cellsText = f.string('cells');
  const python = f.string('python');
  const device = f.string('device');
  const timeout = f.number('torch-timeout');
  if (target === undefined) {
    const stray = (
      [
        ['weights', weights],
        ['torch-args', argsText],
        ['cells', cellsText],
        ['python', python],
        ['device', device],
        ['torch-timeout', timeout],
      ] as const
    ).find(([, v]) => v !== undefined);
    if (stray) throw new UsageError(`--${stray[0]} applies to PyTorch models only (--torch FILE.py:NAME)`);
    return undefined;
  }
  const m = /^(.+\.py):([A-Za-z_][A-Za-z0-9_]*)$/.exec(target);
  if (!m) throw new UsageError(`--torch must be FILE.py:NAME, e.g. models/my_rnn.py:make_model (got "${target}")`);
  if (!existsSync(m[1])) throw new UsageError(`--torch: no such file ${m[1]}`);
  if (weights !== undefined && !existsSync(weights)) throw new UsageError(`--weights: no such file ${weights}`);
  let args: Record<string, unknown> | undefined;
  if (argsText !== undefined) {
    try {
      args = JSON.parse(argsText) as Record<string, unknown>;
    } catch {
      args = undefined;
    }
    if (typeof args !== 'object' || args === null || Array.isArray(args))
      throw new UsageError(`--torch-args must be a JSON object of keyword arguments (got ${argsText})`);
  }
  const cells = cellsText?.split(',').map((s) => s.trim());
  if (cells && cells.some((c) => c === '')) throw new UsageError(`--cells must be comma-separated submodule names (got "${cellsText}")`);
  if (device !== undefined && device !== 'cpu' && device !== 'cuda') throw new UsageError(`--device must be cpu or cuda (got "${device}")`);
  if (timeout !== undefined && !(timeout > 0))
    throw new UsageError(`--torch-timeout must be a positive number of seconds (got ${timeout})`);
  return {
    target,
    file: m[1],
    name: m[2],
    weights,
    args,
    cells,
    python: pythonCommand(python),
    device: (device ?? 'cpu') as 'cpu' | 'cuda',
    timeoutMs: (timeout ?? 600) * 1000,
  };
}

/** Input size and readout of an --input JSON {"x": [[[...]]], "y" | "labels"}: labels mean a softmax model. */
export function inputShapeOf(json: unknown, what: string): { inputSize: number; activation: ReadoutActivation } {
  const x = (json as { x?: unknown } | null)?.x;
  const step = Array.isArray(x) && Array.isArray(x[0]) ? (x[0] as unknown[])[0] : undefined;
  if (!Array.isArray(step) || step.length === 0)
    throw new Error(`${what}: "x" must be batch × time × features (a non-empty array of arrays of arrays)`);
  return { inputSize: step.length, activation: (json as Record<string, unknown>).labels !== undefined ? 'softmax' : 'linear' };
}

/** Starts the user's model in their Python (announced on stderr). `task` (or `input`) says what it will be fed. */
export function openTorchForCli(
  flags: TorchFlags,
  feed: { task?: TaskKind; T?: number; N?: number; input?: unknown; inputPath?: string },
  err: NodeJS.WritableStream,
): TorchModel {
  let shape: { inputSize: number; activation: ReadoutActivation };
  let task: TaskInfo | undefined;
  if (feed.input !== undefined) shape = inputShapeOf(feed.input, feed.inputPath ?? 'input');
  else if (feed.task) {
    shape = TASK_SHAPES[feed.task];
    task = { name: feed.task, ...(feed.T !== undefined ? { T: feed.T } : {}), ...(feed.N !== undefined ? { N: feed.N } : {}) };
  } else throw new UsageError('a PyTorch model needs --task copy|denoise|smnist or --input FILE.json (it records no task of its own)');
  err.write(
    `running ${flags.target}${flags.weights ? ` with weights ${flags.weights}` : ''} in ${flags.python} (${helperScriptPath()}, device ${flags.device})\n`,
  );
  return openTorchModel({
    file: flags.file,
    name: flags.name,
    weights: flags.weights,
    args: flags.args,
    cells: flags.cells,
    device: flags.device,
    python: flags.python,
    timeoutMs: flags.timeoutMs,
    inputSize: shape.inputSize,
    readoutActivation: shape.activation,
    task,
  });
}
