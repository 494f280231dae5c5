/** Builds our Model from converted layers (already in our names and layouts) and an optional readout. */
import type { LayerSpec, ReadoutActivation } from '../model/architecture';
import type { Model, ModelParams } from '../model/model';
import { clip, FormatError } from './errors';
import { expectShape, finishModel, identityReadout, MAX_MODEL_VALUES, shapeStr, type RawTensor } from './tensors';

export interface ImportedLayer {
  spec: LayerSpec;
  inputSize: number;
  /** Our parameter names (kernel, U_c, …) → tensors in our layout. */
  params: Record<string, RawTensor>;
  /** Where it came from, for messages (module prefix, Keras layer name). */
  origin: string;
}

export interface ImportedReadout {
  /** [H, k] (input-major, as ours). */
  kernel: RawTensor;
  bias: RawTensor;
  activation: ReadoutActivation;
  perStep: boolean;
  origin: string;
}

/** The origin of a readout that is not in the file but stands in for it (an identity on the top state). */
export const IDENTITY_ORIGIN = 'identity';

export function assembleModel(layers: ImportedLayer[], readout: ImportedReadout | undefined, warnings: string[]): Model {
  if (layers.length === 0) throw new FormatError('no recurrent layer found');
  for (let i = 1; i < layers.length; i++) {
    const prev = layers[i - 1];
    const cur = layers[i];
    if (cur.inputSize !== prev.spec.units) {
      const hint = cur.inputSize === 2 * prev.spec.units ? ' (bidirectional layers are not supported)' : '';
      throw new FormatError(
        `recurrent layers do not chain: ${clip(cur.origin)} takes ${cur.inputSize} inputs but ${clip(prev.origin)} has ${prev.spec.units} units${hint}`,
      );
    }
  }
  const H = layers[layers.length - 1].spec.units;
  let ro = readout;
  if (!ro) {
    const id = identityReadout(H);
    ro = { ...id, activation: 'linear', perStep: false, origin: IDENTITY_ORIGIN };
    warnings.push(
      `no readout layer found: using an identity readout, so the model's output is the top layer's last state h_T (${H} values)`,
    );
  }
  if (ro.kernel.shape.length !== 2 || ro.kernel.shape[0] !== H) {
    throw new FormatError(
      `readout ${clip(ro.origin)} has kernel ${clip(shapeStr(ro.kernel.shape))} but the top recurrent layer has ${H} units`,
    );
  }
  const k = ro.kernel.shape[1];
  expectShape(`readout ${clip(ro.origin)} bias`, ro.bias, [k]);
  const params: ModelParams = new Map();
  let total = 0;
  layers.forEach((l, i) => {
    for (const [name, t] of Object.entries(l.params)) {
      total += t.data.length;
      params.set(`layers.${i}.${name}`, t);
    }
  });
  params.set('readout.kernel', ro.kernel);
  params.set('readout.bias', ro.bias);
  if (total > MAX_MODEL_VALUES) throw new FormatError(`model too large: ${total} values (limit ${MAX_MODEL_VALUES})`);
  const arch = {
    inputSize: layers[0].inputSize,
    layers: layers.map((l) => l.spec),
    readout: {
      units: k,
      activation: ro.activation,
      perStep: ro.perStep,
      ...(ro.origin === IDENTITY_ORIGIN ? { assumed: true as const } : {}),
    },
  };
  return finishModel(arch, params, warnings);
}

/**
 * The paper's BRC/nBRC weights (official Keras code and niklexical/brc_pytorch share the names):
 * kernelz/kernelr/kernelh [in, H]; memoryz/memoryr [H] (BRC) or [H, H] (nBRC, applied as h·W); bz, br [H].
 * "z" is our c gate and "r" our a gate. BRC vs nBRC follows from the memory shapes.
 */
export function paperBrcLayer(
  w: { kernelz: RawTensor; kernelr: RawTensor; kernelh: RawTensor; memoryz: RawTensor; memoryr: RawTensor; bz?: RawTensor; br?: RawTensor },
  origin: string,
): ImportedLayer {
  const kz = w.kernelz;
  if (kz.shape.length !== 2)
    throw new FormatError(`${clip(origin)}: kernelz must be 2-D [inputs, units], found ${clip(shapeStr(kz.shape))}`);
  const [I, H] = kz.shape;
  expectShape(`${origin} kernelr`, w.kernelr, [I, H]);
  expectShape(`${origin} kernelh`, w.kernelh, [I, H]);
  const nbrc = w.memoryz.shape.length === 2;
  const recShape = nbrc ? [H, H] : [H];
  expectShape(`${origin} memoryz`, w.memoryz, recShape);
  expectShape(`${origin} memoryr`, w.memoryr, recShape);
  const zeros = (): RawTensor => ({ shape: [H], data: new Float64Array(H) });
  const bz = w.bz ?? zeros();
  const br = w.br ?? zeros();
  expectShape(`${origin} bz`, bz, [H]);
  expectShape(`${origin} br`, br, [H]);
  const params: Record<string, RawTensor> = {
    U_c: kz,
    U_a: w.kernelr,
    U: w.kernelh,
    [nbrc ? 'W_c' : 'w_c']: w.memoryz,
    [nbrc ? 'W_a' : 'w_a']: w.memoryr,
    b_c: bz,
    b_a: br,
  };
  return { spec: { cell: nbrc ? 'nbrc' : 'brc', units: H }, inputSize: I, params, origin };
}
