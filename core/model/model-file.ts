/**
 * Our model file: a safetensors file whose metadata says format=rnn-memory-lens, version=1 and holds
 * the architecture as JSON; tensors are named `layers.{i}.{param}` and `readout.{kernel,bias}`.
 */
import { readFileSync } from 'node:fs';
import { findCustomCell } from '../cells/custom-registry';
import { validateArchitecture, type Architecture } from './architecture';
import { writeFileAtomic } from '../util/fs-atomic';
import type { Model, ModelParams, Tensor } from './model';
import { readSafetensors, writeSafetensors } from './safetensors';

export const MODEL_FORMAT = 'rnn-memory-lens';
export const MODEL_VERSION = '1';
const RESERVED_KEYS = ['format', 'version', 'architecture'];

export class ModelFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelFileError';
  }
}

export interface SerializeOptions {
  dtype?: 'F32' | 'F64';
  extraMetadata?: Record<string, string>;
}

/**
 * The tensor names and shapes an architecture requires, layers in order then the readout. A custom-cell layer
 * takes its shapes from its loaded definition (core/cells/custom-registry); while the cell is not loaded in this
 * thread, the layer's tensors in `present` are accepted as stored (the model can be listed and inspected
 * without running the user's code; loading the cell makes the check strict).
 */
export function expectedParamShapes(arch: Architecture, present?: ReadonlyMap<string, Pick<Tensor, 'shape'>>): Map<string, number[]> {
  const out = new Map<string, number[]>();
  let inSize = arch.inputSize;
  arch.layers.forEach((layer, i) => {
    const H = layer.units;
    const p = `layers.${i}.`;
    switch (layer.cell) {
      case 'brc':
      case 'nbrc':
        out.set(`${p}U_c`, [inSize, H]);
        out.set(`${p}U_a`, [inSize, H]);
        out.set(`${p}U`, [inSize, H]);
        if (layer.cell === 'brc') {
          out.set(`${p}w_c`, [H]);
          out.set(`${p}w_a`, [H]);
        } else {
          out.set(`${p}W_c`, [H, H]);
          out.set(`${p}W_a`, [H, H]);
        }
        out.set(`${p}b_c`, [H]);
        out.set(`${p}b_a`, [H]);
        break;
      case 'gru':
        out.set(`${p}kernel`, [inSize, 3 * H]);
        out.set(`${p}recurrent_kernel`, [H, 3 * H]);
        out.set(`${p}bias`, layer.resetAfter === false ? [3 * H] : [2, 3 * H]);
        break;
      case 'simple_rnn':
        out.set(`${p}kernel`, [inSize, H]);
        out.set(`${p}recurrent_kernel`, [H, H]);
        out.set(`${p}bias`, [H]);
        break;
      case 'lstm':
        out.set(`${p}kernel`, [inSize, 4 * H]);
        out.set(`${p}recurrent_kernel`, [H, 4 * H]);
        out.set(`${p}bias`, [4 * H]);
        break;
      case 'custom': {
        const def = findCustomCell(layer.custom);
        const name = layer.custom?.name ?? '?';
        if (def) {
          for (const spec of def.paramSpecs(inSize, H)) out.set(`${p}${spec.name}`, [...spec.shape]);
        } else if (present) {
          for (const [n, t] of present) if (n.startsWith(p) && /^[A-Za-z_]\w*$/.test(n.slice(p.length))) out.set(n, [...t.shape]);
          if (![...out.keys()].some((n) => n.startsWith(p))) throw new ModelFileError(`layer ${i} (custom cell "${name}") has no tensors`);
        } else {
          throw new ModelFileError(`layer ${i} uses the custom cell "${name}", which is not loaded (core/custom/resolve)`);
        }
        break;
      }
      default:
        throw new ModelFileError(`unknown cell kind ${JSON.stringify((layer as { cell: unknown }).cell)} in layer ${i}`);
    }
    inSize = H;
  });
  out.set('readout.kernel', [inSize, arch.readout.units]);
  out.set('readout.bias', [arch.readout.units]);
  return out;
}

export function serializeModel(model: Model, opts: SerializeOptions = {}): Uint8Array {
  const arch = validateArchitecture(model.arch);
  checkTensorSet(arch, model.params);
  for (const [name, t] of model.params) {
    if (t.data.length !== t.shape.reduce((a, b) => a * b, 1)) {
      throw new ModelFileError(`tensor "${name}" has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    }
  }
  const extra = opts.extraMetadata ?? {};
  for (const k of RESERVED_KEYS) {
    if (Object.prototype.hasOwnProperty.call(extra, k)) throw new ModelFileError(`extraMetadata may not set reserved key "${k}"`);
  }
  const metadata = { ...extra, format: MODEL_FORMAT, version: MODEL_VERSION, architecture: JSON.stringify(arch) };
  return writeSafetensors(model.params, metadata, opts.dtype ?? 'F32');
}

export function parseModel(bytes: Uint8Array): { model: Model; warnings: string[] } {
  const { tensors, metadata } = readSafetensors(bytes);
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(metadata, k);
  if (!has('format')) throw new ModelFileError('not an RNN Memory Lens model (no format metadata)');
  if (metadata.format !== MODEL_FORMAT) {
    throw new ModelFileError(`not an RNN Memory Lens model (format is ${JSON.stringify(metadata.format.slice(0, 60))})`);
  }
  if (metadata.version !== MODEL_VERSION) {
    throw new ModelFileError(
      `unsupported model file version ${JSON.stringify(has('version') ? metadata.version.slice(0, 60) : undefined)} (this build reads version ${MODEL_VERSION})`,
    );
  }
  if (!has('architecture')) throw new ModelFileError('model file has no "architecture" metadata');
  let rawArch: unknown;
  try {
    rawArch = JSON.parse(metadata.architecture);
  } catch (err) {
    throw new ModelFileError(`"architecture" metadata is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  let arch: Architecture;
  try {
    arch = validateArchitecture(rawArch);
  } catch (err) {
    throw new ModelFileError((err as Error).message, { cause: err }); // the importers report ModelFileErrors as format errors
  }
  const expected = checkTensorSet(arch, tensors);

  const params: ModelParams = new Map();
  const warnings: string[] = [];
  for (const name of expected.keys()) {
    const t = tensors.get(name)!;
    let bad = 0;
    for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i])) bad++;
    if (bad > 0) warnings.push(`tensor "${name}" has ${bad} non-finite value${bad === 1 ? '' : 's'} (NaN/Inf)`);
    params.set(name, { shape: t.shape, data: t.data });
  }
  return { model: { arch, params }, warnings };
}

/** Writes to a temp file in the same folder, then renames: a crash never leaves a half-written model. */
export function saveModel(path: string, model: Model, opts: SerializeOptions = {}): void {
  const bytes = serializeModel(model, opts);
  try {
    writeFileAtomic(path, bytes);
  } catch (err) {
    throw new ModelFileError(`cannot save model to ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export function loadModel(path: string): { model: Model; warnings: string[] } {
  try {
    return parseModel(readFileSync(path));
  } catch (err) {
    throw new ModelFileError(`cannot load model ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Throws naming the first missing tensor, unexpected tensor or shape mismatch. */
function checkTensorSet(arch: Architecture, tensors: ReadonlyMap<string, Pick<Tensor, 'shape'>>): Map<string, number[]> {
  const expected = expectedParamShapes(arch, tensors);
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (!t) throw new ModelFileError(`missing tensor "${name}" (expected shape [${shape.join(', ')}])`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ModelFileError(
        `shape mismatch for tensor "${name}": expected [${shape.join(', ')}], found [${t.shape.join(', ').slice(0, 200)}]`,
      );
    }
  }
  for (const name of tensors.keys()) {
    if (!expected.has(name)) throw new ModelFileError(`unexpected tensor "${name.slice(0, 200)}" (not part of this architecture)`);
  }
  return expected;
}
