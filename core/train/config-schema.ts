/**
 * The one description of every training option: type, limits, defaults (the paper's for the CLI, small quick
 * ones for the extension's settings), per-task defaults and help text. The CLI's flags and help
 * (core/cli/train-flags.ts), config validation (core/train/config.ts), the extension's quick picks
 * (extension/train-picks.ts) and package.json's `rnnMemory.train.*` settings are derived from or checked
 * against it (test/unit/train-config-schema.test.ts), so no two of them disagree on a limit or a default.
 * Pure data: no Node, no vscode.
 */
import { CELL_KINDS } from '../cells/types';
import { ENGINE_NAMES } from '../engine/types';
import { MAX_TASK_T } from '../model/architecture';
import type { TaskKind } from '../tasks/types';
import type { TrainConfig } from './types';

export const TASK_NAMES: readonly TaskKind[] = ['copy', 'denoise', 'smnist'];
export { ENGINE_NAMES };

interface OptionBase {
  /** The TrainConfig field. */
  key: Exclude<keyof TrainConfig, 'custom'>;
  /** CLI flag without the dashes. */
  flag: string;
  /** What the flag's value looks like in the help (N, X, …). */
  metavar: string;
  /** Help text (CLI help; the start of the setting's description). */
  help: string;
  /** The extension setting `rnnMemory.train.<name>` with its quick default, when the extension has one. */
  setting?: { name: string; default: number | string; description: string };
}

export interface NumberOption extends OptionBase {
  type: 'integer' | 'number';
  /** The CLI's default (the paper's protocol). */
  default: number;
  min?: number;
  /** true: the value must be strictly above `min`. */
  exclusiveMin?: boolean;
  max?: number;
  exclusiveMax?: boolean;
  /** Defaults that differ by task (the paper's per-task protocol). */
  perTask?: Partial<Record<TaskKind, number>>;
}

export interface ChoiceOption extends OptionBase {
  type: 'enum';
  default: string;
  values: readonly string[];
}

export type TrainOption = NumberOption | ChoiceOption;

const int = (o: Omit<NumberOption, 'type'>): NumberOption => ({ type: 'integer', ...o });

/** Every option, in the order of the CLI help. */
export const TRAIN_OPTIONS: readonly TrainOption[] = [
  { type: 'enum', key: 'task', flag: 'task', metavar: 'copy|denoise|smnist', default: 'copy', values: TASK_NAMES, help: 'the task' },
  {
    type: 'enum',
    key: 'cell',
    flag: 'cell',
    metavar: 'brc|nbrc|gru|lstm|FILE.ts',
    default: 'brc',
    values: CELL_KINDS,
    help: 'the recurrent cell, or a custom cell file',
    setting: { name: 'cell', default: 'brc', description: 'Default recurrent cell of the training quick picks.' },
  },
  int({
    key: 'T',
    flag: 'T',
    metavar: 'N',
    default: 300,
    min: 1,
    max: MAX_TASK_T,
    perTask: { copy: 300, denoise: 400, smnist: 784 },
    help: 'sequence length (copy 300, denoise 400 noise steps; smnist is always 784)',
    setting: {
      name: 'T',
      default: 20,
      description: 'Default sequence length T (copy) or noise steps (denoise). The paper uses 300 (copy) and 400 (denoise).',
    },
  }),
  int({
    key: 'N',
    flag: 'N',
    metavar: 'N',
    default: 0,
    min: 0,
    perTask: { copy: 0, denoise: 200, smnist: 300 },
    help: 'denoise: forbidden tail (200); smnist: black pixels appended (300)',
  }),
  int({
    key: 'layers',
    flag: 'layers',
    metavar: 'N',
    default: 2,
    min: 1,
    max: 64,
    perTask: { copy: 2, denoise: 4, smnist: 4 },
    help: 'stacked recurrent layers (copy 2, denoise/smnist 4)',
    setting: { name: 'layers', default: 1, description: 'Default number of stacked recurrent layers.' },
  }),
  int({
    key: 'units',
    flag: 'units',
    metavar: 'N',
    default: 100,
    min: 1,
    max: 16384,
    help: 'units per layer (100)',
    setting: { name: 'units', default: 32, description: 'Default units per layer (the paper uses 100).' },
  }),
  int({
    key: 'batch',
    flag: 'batch',
    metavar: 'N',
    default: 100,
    min: 1,
    max: 100_000,
    help: 'batch size (100)',
    setting: { name: 'batch', default: 32, description: 'Batch size (the paper uses 100).' },
  }),
  int({
    key: 'steps',
    flag: 'steps',
    metavar: 'N',
    default: 30000,
    min: 1,
    max: 1e9,
    help: 'gradient updates (30000)',
    setting: { name: 'steps', default: 1000, description: 'Default number of training steps (the paper uses 30000).' },
  }),
  {
    type: 'number',
    key: 'lr',
    flag: 'lr',
    metavar: 'X',
    default: 1e-3,
    min: 0,
    exclusiveMin: true,
    max: 10,
    exclusiveMax: true,
    help: 'Adam learning rate (1e-3)',
    setting: { name: 'lr', default: 0.003, description: 'Adam learning rate (the paper uses 0.001).' },
  },
  int({
    key: 'seed',
    flag: 'seed',
    metavar: 'N',
    default: 1,
    help: 'seed for initialisation and data (1)',
    setting: { name: 'seed', default: 1, description: 'Seed for initialisation and data.' },
  }),
  {
    type: 'number',
    key: 'clipNorm',
    flag: 'clip',
    metavar: 'X',
    default: 0,
    min: 0,
    help: 'global-norm gradient clipping, 0 = off (0)',
    setting: {
      name: 'clipNorm',
      default: 0,
      description:
        'Global-norm gradient clipping: each update is scaled down so the gradient norm is at most this; 0 = off (the paper uses none). Try 1 when a diagnosis reports exploding gradients.',
    },
  },
  int({
    key: 'curriculum',
    flag: 'curriculum',
    metavar: 'N',
    default: 0,
    min: 0,
    max: 1e9,
    help: 'copy/denoise: train the first N steps on shorter sequences, growing in stages\n(about 1.5× each) from 2 up to T; 0 = off (0). Evaluation always uses length T',
    setting: {
      name: 'curriculum',
      default: 0,
      description:
        'Sequence-length curriculum (copy and denoise): the first this many steps train on shorter sequences growing in stages up to T; 0 = off. Helps a 1-layer BRC learn copy-first-input.',
    },
  }),
  int({
    key: 'evalEvery',
    flag: 'eval-every',
    metavar: 'N',
    default: 100,
    min: 1,
    max: 1e9,
    help: 'evaluate on the test set every N steps (100)',
    setting: { name: 'evalEvery', default: 100, description: 'Evaluate on the test set every this many steps.' },
  }),
  int({
    key: 'testSize',
    flag: 'test-size',
    metavar: 'N',
    default: 1000,
    min: 1,
    max: 1e6,
    help: 'test sequences (1000)',
    setting: { name: 'testSize', default: 200, description: 'Number of test sequences.' },
  }),
  int({
    key: 'checkpointEvery',
    flag: 'checkpoint-every',
    metavar: 'N',
    default: 500,
    min: 1,
    max: 1e9,
    help: 'save a resumable checkpoint every N steps (500)',
    setting: { name: 'checkpointEvery', default: 1000, description: 'Save a resumable checkpoint every this many steps (and on stop).' },
  }),
  {
    type: 'enum',
    key: 'engine',
    flag: 'engine',
    metavar: 'fast|native|wasm|reference',
    default: 'fast',
    values: ENGINE_NAMES,
    help: 'compute path (fast = native, else wasm, else reference; an engine named but unavailable falls back the same way)',
  },
];

/** The option's range in words ("a positive integer up to 64", "a number above 0 and below 10"), for messages. */
export function describeRange(o: NumberOption): string {
  if (o.type === 'integer' && !o.exclusiveMin && (o.min === 0 || o.min === 1)) {
    return `a ${o.min === 1 ? 'positive' : 'non-negative'} integer${o.max === undefined ? '' : ` up to ${o.max}`}`;
  }
  const bounds: string[] = [];
  if (o.min !== undefined) bounds.push(o.exclusiveMin ? `above ${o.min}` : `>= ${o.min}`);
  if (o.max !== undefined) bounds.push(o.exclusiveMax ? `below ${o.max}` : `<= ${o.max}`);
  return [o.type === 'integer' ? 'an integer' : 'a number', bounds.join(' and ')].filter(Boolean).join(' ');
}

/** Whether `v` is a valid value of the numeric option `o`. */
export function inRange(o: NumberOption, v: unknown): v is number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  if (o.type === 'integer' && !Number.isSafeInteger(v)) return false;
  if (o.min !== undefined && (o.exclusiveMin ? v <= o.min : v < o.min)) return false;
  if (o.max !== undefined && (o.exclusiveMax ? v >= o.max : v > o.max)) return false;
  return true;
}

/** The train options block of `rnn-memory train --help`, one flag per line with continuation lines indented. */
export function trainOptionsHelp(): string {
  const lines: string[] = [];
  for (const o of TRAIN_OPTIONS) {
    if (o.key === 'task' || o.key === 'cell') continue; // in the usage line
    const head = `  --${o.flag} ${o.metavar}`;
    const [first, ...rest] = o.help.split('\n');
    lines.push(head.length < 21 ? head.padEnd(21) + first : `${head}  ${first}`);
    for (const r of rest) lines.push(' '.repeat(21) + r);
  }
  return lines.join('\n');
}

/** The package.json `contributes.configuration` entry of an option's setting (scripts/sync-settings.ts writes them). */
export function settingEntry(o: TrainOption): Record<string, unknown> {
  if (!o.setting) throw new Error(`--${o.flag} has no setting`);
  const e: Record<string, unknown> = { type: o.type === 'enum' ? 'string' : o.type };
  if (o.type === 'enum') {
    e.enum = [...o.values];
  } else {
    if (o.min !== undefined) e[o.exclusiveMin ? 'exclusiveMinimum' : 'minimum'] = o.min;
    if (o.max !== undefined) e[o.exclusiveMax ? 'exclusiveMaximum' : 'maximum'] = o.max;
  }
  e.default = o.setting.default;
  e.description = o.setting.description;
  return e;
}
