/**
 * Keras files: the Keras 3 `.keras` zip (config.json + metadata.json + model.weights.h5, weights stored under
 * layers/<name>/[cell/[cells/<cell>/]]vars/<i>) and the legacy HDF5 `.h5` of model.save (root attribute
 * model_config, weights under model_weights/<layer> listed by each group's weight_names attribute).
 */
import { AnswerBook, clip, FormatError } from './errors';
import {
  h5AttrString,
  h5AttrStrings,
  h5Child,
  h5Group,
  h5HasDenseAttributes,
  h5Keys,
  h5ReadTensor,
  isDataset,
  openH5,
  type H5Group,
  type TensorBound,
} from './h5';
import { convertKerasModel, type KerasDialect, type NamedWeight, type WeightSource } from './keras-topology';
import type { ImportResult } from './pytorch-safetensors';
import { readZip, type ZipLimits } from './zip';

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FormatError(`${what} is not valid JSON (${clip((e as Error).message)})`);
  }
}

function dialectFor(version: string | undefined, label: string): KerasDialect {
  const major = version ? Number.parseInt(version, 10) : NaN;
  const hardSigmoid = major >= 3 ? 'hard_sigmoid_keras3' : major >= 1 ? 'hard_sigmoid' : 'ask';
  return { hardSigmoid, resetAfterDefault: false, label };
}

/** The datasets vars/0, vars/1 … of a Keras 3 object group, in index order. */
function vars(g: H5Group, bound: TensorBound | undefined): NamedWeight[] {
  const v = h5Group(g, 'vars');
  if (!v) return [];
  const keys = h5Keys(v)
    .filter((k) => /^\d+$/.test(k))
    .sort((a, b) => Number(a) - Number(b));
  return keys.map((k) => {
    const d = h5Child(v, k);
    if (!isDataset(d)) throw new FormatError(`weights file: vars/${clip(k)} of ${clip(g.name)} is not a dataset`);
    return { name: '', tensor: h5ReadTensor(d, bound) };
  });
}

export function openKerasBytes(bytes: Uint8Array, book: AnswerBook, source: string, limits?: ZipLimits): ImportResult & { kind: string } {
  const { files } = readZip(bytes, (n) => n === 'config.json' || n === 'metadata.json' || n === 'model.weights.h5', limits);
  const cfg = files.get('config.json');
  const w = files.get('model.weights.h5');
  if (!cfg) throw new FormatError('no config.json in the .keras archive (truncated, or not a Keras 3 model file)');
  if (!w) throw new FormatError('no model.weights.h5 in the .keras archive (truncated?)');
  const meta = files.get('metadata.json');
  const metaObj = meta ? parseJson(new TextDecoder().decode(meta), 'metadata.json') : {};
  const version =
    typeof (metaObj as { keras_version?: unknown }).keras_version === 'string' ? (metaObj as { keras_version: string }).keras_version : '3';
  const config = parseJson(new TextDecoder().decode(cfg), 'config.json');
  const root = openH5(w);
  const layersGroup = h5Group(root, 'layers');
  if (!layersGroup) throw new FormatError('model.weights.h5 has no "layers" group');
  // Keras 3 names a container's children by snake_case class name, numbered per class in order (dense, dense_1 …).
  const layerNames = new KerasNames();
  const source_: WeightSource = {
    layerWeights(name, cls, cellClasses, bound) {
      const path = layerNames.next(cls);
      const g = h5Group(layersGroup, path) ?? h5Group(layersGroup, name);
      if (!g)
        throw new FormatError(
          `model.weights.h5 has no weights for layer ${clip(name)} (looked for layers/${clip(path)}; has: ${h5Keys(layersGroup)
            .slice(0, 10)
            .map((k) => clip(k, 30))
            .join(', ')})`,
        );
      const cell = h5Group(g, 'cell');
      const inner = h5Group(g, 'layer'); // TimeDistributed
      if (cell) {
        const cells = h5Group(cell, 'cells');
        if (cells) {
          const cellNames = new KerasNames();
          return cellClasses.flatMap((c) => {
            const p = cellNames.next(c);
            return vars(h5Group(cells, p) ?? failGroup(`layers/${path}/cell/cells/${p}`), bound);
          });
        }
        return vars(cell, bound);
      }
      if (inner) return vars(inner, bound);
      return vars(g, bound);
    },
  };
  const res = convertKerasModel(config, source_, dialectFor(version, `Keras ${version}`), book, source);
  return { ...res, kind: `Keras ${clip(version, 20)} model (.keras)` };
}

function failGroup(k: string): never {
  throw new FormatError(`weights file: no group ${clip(k)}`);
}

/** Keras 3's naming.to_snake_case. */
function snake(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

class KerasNames {
  private readonly used = new Map<string, number>();
  next(cls: string): string {
    const base = snake(cls);
    const n = this.used.get(base);
    this.used.set(base, n === undefined ? 0 : n + 1);
    return n === undefined ? base : `${base}_${n + 1}`;
  }
}

export function openKerasH5Bytes(bytes: Uint8Array, book: AnswerBook, source: string): ImportResult & { kind: string } {
  const root = openH5(bytes);
  const configText = h5AttrString(root, 'model_config');
  if (configText === undefined) {
    if (h5HasDenseAttributes(root)) {
      throw new FormatError(
        'the model_config attribute is kept in HDF5 dense attribute storage (used for attributes over 64 KB, written with libver="latest"), which this reader does not support; re-save the model with Keras 3 (model.save("model.keras"))',
      );
    }
    throw new FormatError(
      'this HDF5 file has no model_config attribute: it holds weights only (save_weights); save the whole model (model.save) instead',
    );
  }
  const config = parseJson(configText, 'model_config');
  const version = h5AttrString(root, 'keras_version');
  const weightsRoot = h5Group(root, 'model_weights') ?? root;
  const source_: WeightSource = {
    layerWeights(name, _cls, _cells, bound) {
      const g = h5Group(weightsRoot, name);
      if (!g) throw new FormatError(`the HDF5 file has no weights for layer ${clip(name)}`);
      const names = h5AttrStrings(g, 'weight_names');
      if (!names) throw new FormatError(`layer ${clip(name)}: no readable weight_names attribute`);
      return names.map((n) => {
        const d = h5Child(g, n);
        if (!isDataset(d)) throw new FormatError(`layer ${clip(name)}: weight ${clip(n)} is missing`);
        return { name: n, tensor: h5ReadTensor(d, bound) };
      });
    },
  };
  const res = convertKerasModel(config, source_, dialectFor(version, `Keras ${version ?? '(version unknown)'}`), book, source);
  return { ...res, kind: `Keras ${clip(version ?? '(version unknown)', 20)} model (legacy HDF5)` };
}
