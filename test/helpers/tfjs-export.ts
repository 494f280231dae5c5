/**
 * Test fixture writer (the extension and CLI never write TF.js): our models as a TensorFlow.js LayersModel (model.json + weights.bin). GRU (reset-before), LSTM and
 * SimpleRNN become the stock TF.js layers; BRC/nBRC become RNN layers with custom cells "BRC"/"NBRC"
 * ({output_dim}) whose weights use the paper's names and order (kernelz, kernelr, kernelh, memoryz, memoryr,
 * br, bz), so a TF.js user who registers such a cell class can load them, and tfjs.ts reads them back.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LayerSpec } from '../../core/model/architecture';
import type { Model } from '../../core/model/model';
import { FormatError } from '../../core/formats/errors';

export const TFJS_WEIGHTS_FILE = 'weights.bin';

interface Spec {
  name: string;
  shape: number[];
  data: Float64Array;
}

function param(model: Model, name: string): Float64Array {
  const t = model.params.get(name);
  if (!t) throw new FormatError(`model has no parameter ${name}`);
  return t.data;
}

function recurrentActivation(l: LayerSpec, i: number): string {
  const a = l.recurrentActivation ?? 'sigmoid';
  if (a === 'hard_sigmoid_keras3') throw new FormatError(`layer ${i}: Keras 3's hard_sigmoid (x/6 + 0.5) has no TensorFlow.js equivalent`);
  return a;
}

export function exportTfjs(model: Model): { modelJson: Record<string, unknown>; weights: Uint8Array } {
  const { arch } = model;
  const L = arch.layers.length;
  const specs: Spec[] = [];
  const layers: Record<string, unknown>[] = [];
  let inSize = arch.inputSize;
  arch.layers.forEach((l, i) => {
    const p = `layers.${i}.`;
    const H = l.units;
    const returnSequences = i < L - 1 || arch.readout.perStep;
    const base: Record<string, unknown> = {
      trainable: true,
      dtype: 'float32',
      return_sequences: returnSequences,
      return_state: false,
      go_backwards: false,
      stateful: false,
      unroll: false,
    };
    if (i === 0) base.batch_input_shape = [null, null, inSize];
    let name: string;
    if (l.cell === 'brc' || l.cell === 'nbrc') {
      name = `${l.cell}_${i}`;
      const cls = l.cell === 'brc' ? 'BRC' : 'NBRC';
      layers.push({ class_name: 'RNN', config: { ...base, name, cell: { class_name: cls, config: { output_dim: H, units: H } } } });
      const rec = l.cell === 'brc' ? [H] : [H, H];
      const [rc, ra] = l.cell === 'brc' ? ['w_c', 'w_a'] : ['W_c', 'W_a'];
      specs.push(
        { name: `${name}/kernelz`, shape: [inSize, H], data: param(model, p + 'U_c') },
        { name: `${name}/kernelr`, shape: [inSize, H], data: param(model, p + 'U_a') },
        { name: `${name}/kernelh`, shape: [inSize, H], data: param(model, p + 'U') },
        { name: `${name}/memoryz`, shape: rec, data: param(model, p + rc) },
        { name: `${name}/memoryr`, shape: rec, data: param(model, p + ra) },
        { name: `${name}/br`, shape: [H], data: param(model, p + 'b_a') },
        { name: `${name}/bz`, shape: [H], data: param(model, p + 'b_c') },
      );
    } else {
      const g = l.cell === 'gru' ? 3 : l.cell === 'lstm' ? 4 : 1;
      const cfg: Record<string, unknown> = {
        ...base,
        units: H,
        activation: l.cell === 'simple_rnn' ? (l.activation ?? 'tanh') : 'tanh',
        use_bias: true,
      };
      let cls: string;
      const biasShape = [g * H];
      if (l.cell === 'gru') {
        if (l.resetAfter !== false) {
          throw new FormatError(
            `layer ${i}: TensorFlow.js GRU cannot compute reset_after = true (the Keras 3 / PyTorch GRU); only BRC, nBRC, LSTM, SimpleRNN and reset-before GRU layers can be exported`,
          );
        }
        cls = 'GRU';
        cfg.recurrent_activation = recurrentActivation(l, i);
        cfg.reset_after = false;
      } else if (l.cell === 'lstm') {
        cls = 'LSTM';
        cfg.recurrent_activation = recurrentActivation(l, i);
        cfg.unit_forget_bias = true;
      } else {
        cls = 'SimpleRNN';
      }
      name = `${l.cell}_${i}`;
      cfg.name = name;
      layers.push({ class_name: cls, config: cfg });
      specs.push(
        { name: `${name}/kernel`, shape: [inSize, g * H], data: param(model, p + 'kernel') },
        { name: `${name}/recurrent_kernel`, shape: [H, g * H], data: param(model, p + 'recurrent_kernel') },
        { name: `${name}/bias`, shape: biasShape, data: param(model, p + 'bias') },
      );
    }
    inSize = H;
  });
  const k = arch.readout.units;
  layers.push({
    class_name: 'Dense',
    config: { name: 'readout', trainable: true, dtype: 'float32', units: k, activation: arch.readout.activation, use_bias: true },
  });
  specs.push(
    { name: 'readout/kernel', shape: [inSize, k], data: param(model, 'readout.kernel') },
    { name: 'readout/bias', shape: [k], data: param(model, 'readout.bias') },
  );

  const total = specs.reduce((s, w) => s + w.data.length, 0);
  const weights = new Uint8Array(4 * total);
  const v = new DataView(weights.buffer);
  let off = 0;
  for (const w of specs) {
    if (w.data.length !== w.shape.reduce((a, b) => a * b, 1)) throw new FormatError(`tensor ${w.name} does not match its shape`);
    for (let i = 0; i < w.data.length; i++, off += 4) v.setFloat32(off, w.data[i], true);
  }
  const modelJson = {
    format: 'layers-model',
    generatedBy: 'RNN Memory Lens',
    convertedBy: null,
    modelTopology: {
      class_name: 'Sequential',
      config: { name: 'rnn_memory_lens', layers },
      keras_version: 'tfjs-layers (RNN Memory Lens export)',
      backend: 'tensor_flow.js',
    },
    weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: specs.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })) }],
    userDefinedMetadata: { rnnMemoryLens: { task: arch.task ?? null } },
  };
  return { modelJson, weights };
}

/** Writes `dir/model.json` and `dir/weights.bin`; returns the model.json path. */
export function saveTfjs(model: Model, dir: string): string {
  const { modelJson, weights } = exportTfjs(model);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, TFJS_WEIGHTS_FILE), weights);
  const path = join(dir, 'model.json');
  writeFileSync(path, JSON.stringify(modelJson, null, 1));
  return path;
}
