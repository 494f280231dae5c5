/**
 * What the training commands ask (quick picks) and how answers, settings and command arguments become a
 * TrainConfig. Pure: the vscode side only shows the items and hands back the chosen values.
 */
import { CELL_KINDS, type CellKind } from '../core/cells/types';
import { normalizeConfig, TRAIN_CONFIG_KEYS } from '../core/train/config';
import { inRange, TRAIN_OPTIONS, type TrainOption } from '../core/train/config-schema';
import type { EngineName, TaskName, TrainConfig } from '../core/train/types';

/** Settings `rnnMemory.train.*`: small, quick defaults (the paper's sizes are one pick away). */
export interface TrainDefaults {
  cell: CellKind;
  T: number;
  layers: number;
  units: number;
  steps: number;
  batch: number;
  lr: number;
  evalEvery: number;
  testSize: number;
  checkpointEvery: number;
  seed: number;
  /** Sequence-length curriculum steps for copy/denoise (0 = off). */
  curriculum: number;
  /** Global-norm gradient clipping (setting `rnnMemory.train.clip`; 0 = off). */
  clipNorm: number;
}

/** The options that have a setting: their schema entry, keyed by TrainDefaults field. */
const SETTING_OPTIONS = TRAIN_OPTIONS.filter((o): o is TrainOption & { key: keyof TrainDefaults } => o.setting !== undefined);

/** Each setting's default, from the schema (package.json declares the same: test/unit/train-config-schema.test.ts). */
export const FALLBACK_DEFAULTS = Object.fromEntries(SETTING_OPTIONS.map((o) => [o.key, o.setting!.default])) as unknown as TrainDefaults;

/** Reads `rnnMemory.train.<setting>` through `get`, falling back per key when a value is missing or outside the schema's limits. */
export function trainDefaultsFrom(get: (key: string) => unknown): TrainDefaults {
  const out: Record<string, unknown> = {};
  for (const o of SETTING_OPTIONS) {
    const v = get(o.setting!.name);
    const valid = o.type === 'enum' ? typeof v === 'string' && o.values.includes(v) : inRange(o, v);
    out[o.key] = valid ? v : FALLBACK_DEFAULTS[o.key];
  }
  return out as unknown as TrainDefaults;
}

export interface PickItem<V> {
  label: string;
  description?: string;
  value: V;
}

const CELL_DESCRIPTIONS: Record<CellKind, string> = {
  brc: 'Bistable Recurrent Cell (per-neuron bistability)',
  nbrc: 'neuromodulated BRC (recurrent gates)',
  gru: 'Gated Recurrent Unit',
  lstm: 'Long Short-Term Memory',
};
const CELL_NAMES: Record<CellKind, string> = { brc: 'BRC', nbrc: 'nBRC', gru: 'GRU', lstm: 'LSTM' };

/** Puts the item equal to `def` first and marks it, so Enter accepts the default. */
function defaultFirst<V>(items: PickItem<V>[], def: V, same: (a: V, b: V) => boolean = (a, b) => a === b): PickItem<V>[] {
  const i = items.findIndex((it) => same(it.value, def));
  const out = items.slice();
  if (i >= 0) {
    const [d] = out.splice(i, 1);
    out.unshift({ ...d, description: d.description ? `${d.description} · default` : 'default' });
  }
  return out;
}

export function taskItems(): PickItem<TaskName>[] {
  return [
    { label: 'Copy first input', description: 'copy: remember x₁ for T steps', value: 'copy' },
    { label: 'Denoising', description: 'denoise: recall 5 marked values', value: 'denoise' },
    { label: 'Sequential MNIST', description: 'smnist: classify 784 pixels one by one', value: 'smnist' },
  ];
}

export function cellItems(d: TrainDefaults): PickItem<CellKind>[] {
  return defaultFirst(
    CELL_KINDS.map((k) => ({ label: CELL_NAMES[k], description: CELL_DESCRIPTIONS[k], value: k })),
    d.cell,
  );
}

/** Sequence length (copy) or noise steps (denoise); smnist has no T pick (always 784 pixels). */
export function lengthItems(task: TaskName, d: TrainDefaults): PickItem<number>[] {
  const values = task === 'denoise' ? [20, 50, 100, 200, 400] : [10, 20, 50, 100, 300];
  const paper = task === 'denoise' ? 400 : 300;
  const items = values.map((v) => ({ label: `T = ${v}`, description: v === paper ? 'paper' : undefined, value: v }));
  if (!values.includes(d.T)) items.push({ label: `T = ${d.T}`, description: undefined, value: d.T });
  return defaultFirst(items, task === 'denoise' && d.T < 10 ? 20 : d.T);
}

export interface Size {
  layers: number;
  units: number;
}

export function sizeItems(task: TaskName, d: TrainDefaults): PickItem<Size>[] {
  const sizes: [number, number, string?][] = [
    [1, 16],
    [1, 32],
    [2, 32],
    [2, 64],
    [2, 100, task === 'copy' ? 'paper' : undefined],
    [4, 100, task !== 'copy' ? 'paper' : undefined],
  ];
  const items = sizes.map(([layers, units, note]) => ({
    label: `${layers} × ${units}`,
    description: note ? `layers × units · ${note}` : 'layers × units',
    value: { layers, units },
  }));
  if (!sizes.some(([l, u]) => l === d.layers && u === d.units)) {
    items.push({ label: `${d.layers} × ${d.units}`, description: 'layers × units', value: { layers: d.layers, units: d.units } });
  }
  return defaultFirst(items, { layers: d.layers, units: d.units }, (a, b) => a.layers === b.layers && a.units === b.units);
}

/** Steps to train, and (when picked) the curriculum that overrides the setting. */
export interface StepChoice {
  steps: number;
  curriculum?: number;
}

/** Share of the steps a picked curriculum takes (the 1-layer BRC recipe: 12 000 of 30 000). */
export const PICKED_CURRICULUM_SHARE = 0.4;

/**
 * Step counts. For copy and denoise with the curriculum setting off, the longer counts are also offered with
 * a curriculum, the way a 1-layer BRC learns copy-first-input; with the setting on, every count uses it.
 */
export function stepItems(d: TrainDefaults, task: TaskName = 'copy'): PickItem<StepChoice>[] {
  const values = [300, 1000, 3000, 10000, 30000];
  if (!values.includes(d.steps)) values.push(d.steps);
  const variable = task !== 'smnist';
  const setting = variable && d.curriculum > 0 ? `curriculum ${d.curriculum} (setting)` : undefined;
  const items: PickItem<StepChoice>[] = values.map((v) => ({
    label: `${v} steps`,
    description: [v === 30000 ? 'paper' : undefined, setting].filter(Boolean).join(' · ') || undefined,
    value: { steps: v },
  }));
  const sorted = defaultFirst(items, { steps: d.steps }, (a, b) => a.steps === b.steps && a.curriculum === b.curriculum);
  if (!variable || d.curriculum > 0) return sorted;
  for (const v of [10000, 30000]) {
    const curriculum = Math.round(PICKED_CURRICULUM_SHARE * v);
    sorted.push({
      label: `${v} steps + curriculum`,
      description: `the first ${curriculum} on shorter sequences growing to T (helps a 1-layer BRC)`,
      value: { steps: v, curriculum },
    });
  }
  return sorted;
}

export interface TrainPicks {
  task: TaskName;
  cell: CellKind;
  /** Absent for smnist. */
  T?: number;
  size: Size;
  steps: number;
  /** A curriculum picked with the steps (overrides the setting). */
  curriculum?: number;
}

/** Quick-pick answers + settings → a validated config. */
export function configFromPicks(p: TrainPicks, d: TrainDefaults, engine: EngineName): TrainConfig {
  const base = baseConfig(d, engine);
  const T = p.task === 'smnist' ? undefined : p.T;
  const picked = p.curriculum !== undefined ? { curriculum: p.curriculum } : {};
  return normalizeConfig({
    ...base,
    ...picked,
    ...noCurriculumFor(p.task),
    task: p.task,
    cell: p.cell,
    T,
    N: defaultN(p.task, T),
    layers: p.size.layers,
    units: p.size.units,
    steps: p.steps,
  });
}

/**
 * A command argument (from tests, keybindings or other extensions) → a validated config. Unknown keys are
 * ignored; `forceTask` pins the task (trainCopyTask). Throws with the first invalid field.
 */
export function configFromArgument(arg: unknown, d: TrainDefaults, engine: EngineName, forceTask?: TaskName): TrainConfig {
  if (typeof arg !== 'object' || arg === null || Array.isArray(arg))
    throw new Error('training arguments must be an object like {cell: "brc", T: 20}');
  const o = arg as Record<string, unknown>;
  const picked: Record<string, unknown> = {};
  for (const k of TRAIN_CONFIG_KEYS) if (o[k] !== undefined) picked[k] = o[k];
  const task = (forceTask ?? picked.task ?? 'copy') as TaskName;
  const T = task === 'smnist' ? undefined : ((picked.T as number | undefined) ?? d.T);
  const base = baseConfig(d, engine);
  if (T === undefined) delete base.T;
  return normalizeConfig({
    ...base,
    ...noCurriculumFor(task),
    N: defaultN(task, T),
    ...picked,
    task,
    ...(T === undefined ? {} : { T }),
  } as Partial<TrainConfig>);
}

function baseConfig(d: TrainDefaults, engine: EngineName): Partial<TrainConfig> {
  return {
    cell: d.cell,
    T: d.T,
    layers: d.layers,
    units: d.units,
    steps: d.steps,
    batch: d.batch,
    lr: d.lr,
    evalEvery: d.evalEvery,
    testSize: d.testSize,
    checkpointEvery: d.checkpointEvery,
    seed: d.seed,
    curriculum: d.curriculum,
    clipNorm: d.clipNorm,
    engine,
  };
}

/** The curriculum setting applies to tasks whose length can vary; sequential MNIST trains without it. */
function noCurriculumFor(task: TaskName): Partial<TrainConfig> {
  return task === 'smnist' ? { curriculum: 0 } : {};
}

/** Denoise keeps the paper's ratio (N = T/2) so short demos stay valid; smnist appends no black pixels. */
function defaultN(task: TaskName, T: number | undefined): number {
  if (task === 'denoise') return Math.max(0, Math.floor((T ?? 400) / 2));
  return 0;
}
