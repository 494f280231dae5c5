/**
 * Keras model configs (Keras 2/3 JSON, and TF.js LayersModel topologies, which use the same Keras JSON) →
 * our layers and readout. Supported: Sequential models, and Functional models that are a plain chain;
 * GRU / LSTM / SimpleRNN layers, RNN layers holding GRUCell / LSTMCell / SimpleRNNCell / the paper's BRC and nBRC
 * cells (one cell or StackedRNNCells), Dense or TimeDistributed(Dense) readouts, an optional Activation after
 * it, and inference no-ops (Dropout …). Weights come from a WeightSource in each layer's weight order.
 */
import type { RecurrentActivation } from '../cells/types';
import type { LayerSpec } from '../model/architecture';
import { assembleModel, IDENTITY_ORIGIN, paperBrcLayer, type ImportedLayer, type ImportedReadout } from './assemble';
import { AnswerBook, clip, FormatError } from './errors';
import type { ImportResult } from './pytorch-safetensors';
import type { TensorBound } from './h5';
import { expectShape, shapeStr, type RawTensor } from './tensors';

export interface NamedWeight {
  /** Weight name when the format keeps one ("gru/gru_cell/kernel:0"), else "". */
  name: string;
  tensor: RawTensor;
}

export interface WeightSource {
  /**
   * A top-level layer's weights in the order the layer creates them (cells in stacking order). `cellClasses`
   * lists the class names of an RNN layer's cells (Keras 3 files locate weights by class name).
   */
  layerWeights(layerName: string, className: string, cellClasses: string[], bound?: TensorBound): NamedWeight[];
}

export interface KerasDialect {
  /** What "hard_sigmoid" means: Keras 2 / TF.js (0.2x + 0.5) or Keras 3 (x/6 + 0.5); 'ask' when unknown. */
  hardSigmoid: 'hard_sigmoid' | 'hard_sigmoid_keras3' | 'ask';
  /** GRU reset_after when a config omits it (TF.js and Keras 2.x standalone: false; tf.keras 2 / Keras 3: true). */
  resetAfterDefault: boolean;
  label: string;
}

type Obj = Record<string, unknown>;

const PAPER_BRC = ['BRC', 'BistableRecurrentCell', 'BistableRecurrentCellLayer'];
const PAPER_NBRC = ['NBRC', 'nBRC', 'NeuromodulatedBistableRecurrentCell', 'NeuromodulatedBistableRecurrentCellLayer'];
const NO_OPS = ['Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'ActivityRegularization'];
const RNN_LAYERS = ['GRU', 'LSTM', 'SimpleRNN', 'RNN'];
const KERAS_CELLS: Record<string, string> = { GRUCell: 'GRU', LSTMCell: 'LSTM', SimpleRNNCell: 'SimpleRNN' };

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Class name without a registered-package prefix ("Custom>BRC" → "BRC"). */
function className(c: Obj): string {
  const n = str(c.class_name) ?? str(c.className) ?? '';
  return n.includes('>') ? n.slice(n.lastIndexOf('>') + 1) : n;
}

function conf(c: Obj): Obj {
  return isObj(c.config) ? c.config : {};
}

/** Reads an option in snake_case or camelCase (TF.js code uses camelCase; its JSON uses snake_case). */
function opt(c: Obj, snake: string): unknown {
  if (snake in c) return c[snake];
  const camel = snake.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());
  return c[camel];
}

/** Activation names: strings, or Keras 3 serialized objects {class_name: "function", config: "sigmoid"}. */
function activationName(v: unknown): string {
  if (v === undefined || v === null) return 'linear';
  if (typeof v === 'string') return v.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  if (isObj(v)) return activationName(typeof v.config === 'string' ? v.config : isObj(v.config) ? v.config.name : v.class_name);
  return String(v);
}

/** The model's layer configs in order, for Sequential models and chain-shaped Functional models. */
export function modelLayers(model: unknown): { layers: Obj[]; inputSize?: number } {
  if (!isObj(model)) throw new FormatError('model config is not an object');
  const kind = className(model);
  const c = model.config;
  let layers: unknown;
  if (kind === 'Sequential') layers = Array.isArray(c) ? c : isObj(c) ? c.layers : undefined;
  else if (kind === 'Functional' || kind === 'Model') layers = isObj(c) ? c.layers : undefined;
  else throw new FormatError(`unsupported model class ${JSON.stringify(clip(kind))} (expected Sequential or Functional)`);
  if (!Array.isArray(layers) || !layers.every(isObj)) throw new FormatError('model config has no layer list');
  const list = layers as Obj[];
  if (kind !== 'Sequential') checkChain(list);
  let inputSize: number | undefined;
  const first = list[0];
  if (first) {
    const fc = conf(first);
    const shape = opt(fc, 'batch_input_shape') ?? opt(fc, 'batch_shape');
    if (Array.isArray(shape) && typeof shape[shape.length - 1] === 'number') inputSize = shape[shape.length - 1] as number;
  }
  return { layers: list, inputSize };
}

function inboundNames(v: unknown, out: string[]): void {
  if (Array.isArray(v)) {
    if (typeof v[0] === 'string' && typeof v[1] === 'number') out.push(v[0]);
    else for (const x of v) inboundNames(x, out);
  } else if (isObj(v)) {
    if (Array.isArray(v.keras_history) && typeof v.keras_history[0] === 'string') out.push(v.keras_history[0]);
    else for (const x of Object.values(v)) inboundNames(x, out);
  }
}

function checkChain(layers: Obj[]): void {
  let prev: string | undefined;
  for (const l of layers) {
    const name = str(l.name) ?? str(conf(l).name) ?? '?';
    if (className(l) !== 'InputLayer') {
      const nodes = l.inbound_nodes;
      if (Array.isArray(nodes) && nodes.length > 1)
        throw new FormatError(`layer ${clip(name)} is used more than once: only chain-shaped models are supported`);
      const inbound: string[] = [];
      inboundNames(nodes, inbound);
      if (inbound.length !== 1 || inbound[0] !== prev) {
        throw new FormatError(
          `layer ${clip(name)} does not simply follow ${clip(prev ?? 'the input')}: only chain-shaped (Sequential-like) models are supported`,
        );
      }
    }
    prev = name;
  }
}

interface CellConf {
  kind: string;
  /** Class name as written in the file. */
  cls: string;
  config: Obj;
}

function cellsOf(layer: Obj): CellConf[] {
  const kind = className(layer);
  const c = conf(layer);
  if (kind !== 'RNN') return [{ kind, cls: kind, config: c }];
  const cell = c.cell;
  const list = Array.isArray(cell) ? cell : isObj(cell) && className(cell) === 'StackedRNNCells' ? conf(cell).cells : [cell];
  if (!Array.isArray(list) || !list.every(isObj)) throw new FormatError('RNN layer without a readable cell config');
  return (list as Obj[]).map((x) => ({ kind: KERAS_CELLS[className(x)] ?? className(x), cls: className(x), config: conf(x) }));
}

function cellWeightCount(cell: CellConf): number {
  if (cell.kind === 'GRU' || cell.kind === 'LSTM' || cell.kind === 'SimpleRNN') return opt(cell.config, 'use_bias') === false ? 2 : 3;
  return 7; // the paper's cells
}

export function convertKerasModel(
  model: unknown,
  weights: WeightSource,
  dialect: KerasDialect,
  book: AnswerBook,
  source: string,
): ImportResult {
  const warnings: string[] = [];
  const { layers, inputSize } = modelLayers(model);
  const out: ImportedLayer[] = [];
  // Inputs of the next layer, when known: bounds the weight tensors a reader may load for it.
  let inputs = typeof inputSize === 'number' ? inputSize : undefined;
  let readout: ImportedReadout | undefined;
  let sequences = true; // does the current tensor still have a time axis?
  for (const l of layers) {
    const kind = className(l);
    const c = conf(l);
    const name = str(c.name) ?? str(l.name) ?? kind;
    const where = `layer ${clip(name)} (${clip(kind)})`;
    if (kind === 'InputLayer' || NO_OPS.includes(kind)) continue;
    if (kind === 'Masking') {
      warnings.push(`${where} ignored: sequences are assumed to contain no masked steps`);
      continue;
    }
    if (readout && kind === 'Activation') {
      const a = activationName(c.activation);
      if (a === 'softmax') readout.activation = 'softmax';
      else if (a !== 'linear')
        warnings.push(`${where}: activation "${clip(a)}" after the readout is not modelled; outputs are the values before it`);
      continue;
    }
    if (readout) throw new FormatError(`${where} after the readout: only one Dense readout at the end is supported`);
    if (kind === 'CuDNNGRU' || kind === 'CuDNNLSTM')
      throw new FormatError(`${where}: CuDNN layers (their own weight layout) are not supported`);
    if (RNN_LAYERS.includes(kind)) {
      if (!sequences)
        throw new FormatError(`${where} follows a recurrent layer that returns only its last state (return_sequences = false)`);
      if (opt(c, 'go_backwards') === true) throw new FormatError(`${where}: go_backwards (reversed time) is not supported`);
      if (opt(c, 'stateful') === true) warnings.push(`${where} is stateful; it is run from a zero state here`);
      const cells = cellsOf(l);
      const ws = weights.layerWeights(
        name,
        kind,
        cells.map((cc) => cc.cls),
        recurrentBound(where, cells, inputs),
      );
      const need = cells.reduce((s, cc) => s + cellWeightCount(cc), 0);
      if (ws.length !== need) {
        throw new FormatError(
          `${where}: found ${ws.length} weight tensors, expected ${need} (${ws.map((w) => clip(w.name || shapeStr(w.tensor.shape), 60)).join(', ')})`,
        );
      }
      let k = 0;
      cells.forEach((cell, i) => {
        const n = cellWeightCount(cell);
        out.push(convertCell(cell, ws.slice(k, k + n), `${name}${cells.length > 1 ? `[${i}]` : ''}`, dialect, book));
        k += n;
      });
      inputs = out[out.length - 1].spec.units;
      sequences = opt(c, 'return_sequences') === true;
      continue;
    }
    if (kind === 'Bidirectional') throw new FormatError(`${where}: bidirectional layers are not supported`);
    const inner = kind === 'TimeDistributed' && isObj(c.layer) ? c.layer : undefined;
    if (kind === 'Dense' || (inner && className(inner) === 'Dense')) {
      if (out.length === 0)
        throw new FormatError(`${where} comes before any recurrent layer: only a Dense readout after the recurrent layers is supported`);
      const dc = inner ? conf(inner) : c;
      const ws = weights.layerWeights(name, kind, [], denseBound(where, opt(dc, 'units'), inputs));
      const useBias = opt(dc, 'use_bias') !== false;
      if (ws.length !== (useBias ? 2 : 1))
        throw new FormatError(`${where}: found ${ws.length} weight tensors, expected ${useBias ? 2 : 1}`);
      const kernel = ws[0].tensor;
      if (kernel.shape.length !== 2) throw new FormatError(`${where}: kernel must be 2-D, found ${clip(shapeStr(kernel.shape))}`);
      const units = kernel.shape[1];
      const bias = useBias ? ws[1].tensor : { shape: [units], data: new Float64Array(units) };
      expectShape(`${where} bias`, bias, [units]);
      let a = activationName(dc.activation);
      if (a !== 'linear' && a !== 'softmax') {
        warnings.push(`${where}: activation "${clip(a)}" is not modelled; the readout gives the values before it`);
        a = 'linear';
      }
      readout = { kernel, bias, activation: a as 'linear' | 'softmax', perStep: sequences, origin: name };
      continue;
    }
    if (kind === 'Sequential' || kind === 'Functional' || kind === 'Model')
      throw new FormatError(`${where}: nested models are not supported`);
    throw new FormatError(`${where}: unsupported layer type (RNN Memory Lens reads recurrent layers and a Dense readout)`);
  }
  if (out.length === 0) throw new FormatError('no recurrent layer in the model');
  if (!readout && sequences) {
    // No readout and the top layer returns sequences: the identity readout applies at every step.
    const H = out[out.length - 1].spec.units;
    const k = new Float64Array(H * H);
    for (let i = 0; i < H; i++) k[i * H + i] = 1;
    readout = {
      kernel: { shape: [H, H], data: k },
      bias: { shape: [H], data: new Float64Array(H) },
      activation: 'linear',
      perStep: true,
      origin: IDENTITY_ORIGIN,
    };
    warnings.push(`no Dense readout: using an identity readout on every step's state (${H} values)`);
  }
  book.finish(source);
  return { model: assembleModel(out, readout, warnings), warnings };
}

const isUnits = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 1 << 16;

/**
 * The largest weight tensors a recurrent layer with these configs can have (an LSTM's [inputs, 4·units] kernel
 * bounds every cell's tensors), or undefined when the config does not say its units or inputs.
 */
function recurrentBound(where: string, cells: CellConf[], inputs: number | undefined): TensorBound | undefined {
  const units = cells.map((c) => opt(c.config, 'units') ?? opt(c.config, 'output_dim'));
  if (!isUnits(inputs) || !units.every(isUnits)) return undefined;
  const H = Math.max(...units);
  const m = Math.max(inputs, H, 2);
  return { maxValues: 4 * m * H, maxDim: 4 * m, what: `${where} (${H} units, ${inputs} inputs)` };
}

function denseBound(where: string, units: unknown, inputs: number | undefined): TensorBound | undefined {
  if (!isUnits(units) || !isUnits(inputs)) return undefined;
  return { maxValues: inputs * units, maxDim: Math.max(inputs, units), what: `${where} (${units} units, ${inputs} inputs)` };
}

function gateActivation(cfg: Obj, where: string, dialect: KerasDialect, book: AnswerBook): RecurrentActivation | undefined {
  const a = activationName(opt(cfg, 'recurrent_activation') ?? 'sigmoid');
  if (a === 'sigmoid') return undefined;
  if (a !== 'hard_sigmoid') throw new FormatError(`${where}: recurrent_activation "${clip(a)}" is not supported (sigmoid or hard_sigmoid)`);
  if (dialect.hardSigmoid !== 'ask') return dialect.hardSigmoid;
  const ans = book.ask({
    key: 'keras.hard_sigmoid',
    prompt: 'The file does not say which Keras wrote it, and hard_sigmoid changed in Keras 3: which one?',
    choices: [
      { value: 'keras2', label: 'Keras 2 / tf.keras / TF.js: clip(0.2·x + 0.5, 0, 1)' },
      { value: 'keras3', label: 'Keras 3: clip(x/6 + 0.5, 0, 1)' },
    ],
    suggested: 'keras2',
  });
  return ans === 'keras3' ? 'hard_sigmoid_keras3' : 'hard_sigmoid';
}

function baseName(n: string): string {
  const s = n.replace(/:\d+$/, '');
  return s.slice(s.lastIndexOf('/') + 1);
}

const PAPER_NAMES: Record<string, 'kernelz' | 'kernelr' | 'kernelh' | 'memoryz' | 'memoryr' | 'bz' | 'br'> = {
  kz: 'kernelz',
  kernelz: 'kernelz',
  kr: 'kernelr',
  kernelr: 'kernelr',
  kh: 'kernelh',
  kernelh: 'kernelh',
  mz: 'memoryz',
  memoryz: 'memoryz',
  mr: 'memoryr',
  memoryr: 'memoryr',
  bz: 'bz',
  br: 'br',
};
/** add_weight order in the paper's code: kernelz, kernelr, kernelh, memoryz, memoryr, br, bz. */
const PAPER_ORDER = ['kernelz', 'kernelr', 'kernelh', 'memoryz', 'memoryr', 'br', 'bz'] as const;

function convertCell(cell: CellConf, ws: NamedWeight[], origin: string, dialect: KerasDialect, book: AnswerBook): ImportedLayer {
  const c = cell.config;
  const where = `${clip(origin)} (${clip(cell.kind)})`;
  if (PAPER_BRC.includes(cell.kind) || PAPER_NBRC.includes(cell.kind)) {
    const byName: Partial<Record<(typeof PAPER_ORDER)[number], RawTensor>> = {};
    const names = ws.map((w) => PAPER_NAMES[baseName(w.name)]);
    if (names.every((n) => n !== undefined) && new Set(names).size === 7) ws.forEach((w, i) => (byName[names[i]!] = w.tensor));
    else PAPER_ORDER.forEach((n, i) => (byName[n] = ws[i].tensor));
    const layer = paperBrcLayer(byName as Required<typeof byName>, origin);
    const units = opt(c, 'output_dim') ?? opt(c, 'units');
    if (typeof units === 'number' && units !== layer.spec.units)
      throw new FormatError(`${where}: config says ${units} units but the weights have ${layer.spec.units}`);
    const declared = PAPER_NBRC.includes(cell.kind) ? 'nbrc' : 'brc';
    if (declared !== layer.spec.cell)
      throw new FormatError(`${where}: the class says ${declared} but the memory weights have the shape of a ${layer.spec.cell}`);
    return layer;
  }
  if (cell.kind !== 'GRU' && cell.kind !== 'LSTM' && cell.kind !== 'SimpleRNN') {
    throw new FormatError(`${where}: unsupported cell type (GRU, LSTM, SimpleRNN and the paper's BRC/nBRC cells are read)`);
  }
  const act = activationName(opt(c, 'activation') ?? 'tanh');
  const kernel = ws[0].tensor;
  if (kernel.shape.length !== 2) throw new FormatError(`${where}: kernel must be 2-D, found ${clip(shapeStr(kernel.shape))}`);
  const [I, gH] = kernel.shape;
  const g = cell.kind === 'GRU' ? 3 : cell.kind === 'LSTM' ? 4 : 1;
  const H = gH / g;
  if (!Number.isInteger(H) || H === 0) throw new FormatError(`${where}: kernel ${shapeStr(kernel.shape)} is not [inputs, ${g}·units]`);
  const units = opt(c, 'units');
  if (typeof units === 'number' && units !== H) throw new FormatError(`${where}: config says ${units} units but the kernel has ${H}`);
  expectShape(`${where} recurrent_kernel`, ws[1].tensor, [H, gH]);
  let spec: LayerSpec;
  let biasShape: number[];
  if (cell.kind === 'SimpleRNN') {
    if (act !== 'tanh' && act !== 'relu') throw new FormatError(`${where}: activation "${clip(act)}" is not supported (tanh or relu)`);
    spec = act === 'relu' ? { cell: 'simple_rnn', units: H, activation: 'relu' } : { cell: 'simple_rnn', units: H };
    biasShape = [H];
  } else {
    if (act !== 'tanh') throw new FormatError(`${where}: activation "${clip(act)}" is not supported (tanh)`);
    spec = { cell: cell.kind === 'GRU' ? 'gru' : 'lstm', units: H };
    const ra = gateActivation(c, where, dialect, book);
    if (ra) spec.recurrentActivation = ra;
    biasShape = [gH];
    if (cell.kind === 'GRU') {
      const resetAfter = opt(c, 'reset_after');
      const after = typeof resetAfter === 'boolean' ? resetAfter : dialect.resetAfterDefault;
      if (!after) spec.resetAfter = false;
      else biasShape = [2, gH];
    }
  }
  const bias = ws.length > 2 ? ws[2].tensor : { shape: biasShape, data: new Float64Array(biasShape.reduce((a, b) => a * b, 1)) };
  expectShape(`${where} bias`, bias, biasShape);
  return { spec, inputSize: I, params: { kernel, recurrent_kernel: ws[1].tensor, bias }, origin };
}
