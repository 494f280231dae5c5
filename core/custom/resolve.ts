/**
 * Custom cells referenced by architectures, configs and model files: where their files are, and loading and
 * registering them in this thread (so layerCell() and the model-file checks find them). Loading runs user
 * code: only workers and the CLI call the load functions. This module itself is light; the TypeScript
 * compiler and TensorFlow.js are required on first load only.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { CustomCellRef } from '../cells/types';
import type { Architecture } from '../model/architecture';
import { expectedParamShapes, loadModel } from '../model/model-file';
import type { Model } from '../model/model';
import { readSafetensors } from '../model/safetensors';
import type { CustomCellDef } from './cell-def';
import { customCellsDisabledMessage } from './policy';
import { findCustomCell, registerCustomCell } from '../cells/custom-registry';
import { readRecordedCell } from './confine';
import { readCellSource, type CellSource } from './source';

/** The custom cell references of an architecture, one per distinct sha256. */
export function customRefs(arch: Pick<Architecture, 'layers'>): CustomCellRef[] {
  const out = new Map<string, CustomCellRef>();
  for (const l of arch.layers) if (l.cell === 'custom' && l.custom && !out.has(l.custom.sha256)) out.set(l.custom.sha256, l.custom);
  return [...out.values()];
}

/**
 * The absolute path of a reference's file; `baseDir` is the folder of the file holding the reference. For
 * paths the user gave (a new run's config); references recorded in files go through confine.ts.
 */
export function cellSourcePath(ref: Pick<CustomCellRef, 'source'>, baseDir: string): string {
  return isAbsolute(ref.source) ? ref.source : resolve(baseDir, ...ref.source.split('/'));
}

export interface LoadCellsOptions {
  /** Folder that relative sources are relative to (the model's or run's folder). */
  baseDir: string;
  /** Use this file for every reference instead of the recorded one (CLI --cell); a changed hash is accepted. */
  override?: string;
  warn?: (message: string) => void;
}

type Heavy = { load: typeof import('./load'); cellDef: typeof import('./cell-def') };
let heavy: Heavy | undefined;
function heavyModules(): Heavy {
  // Required lazily so that hosts which never run custom cells do not load TypeScript and TensorFlow.js.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: loaded only when needed
  heavy ??= { load: require('./load') as typeof import('./load'), cellDef: require('./cell-def') as typeof import('./cell-def') };
  return heavy;
}

/** Loads a cell file in this thread (runs user code) and returns its CellDef, without registering it. */
export function loadCellDef(path: string): CustomCellDef {
  return cellDefFromSource(readCellSource(path));
}

/** loadCellDef() of bytes already read (and checked): runs exactly these bytes. */
function cellDefFromSource(src: CellSource): CustomCellDef {
  const h = heavyModules();
  return h.cellDef.makeCustomCellDef(h.load.loadCellSource(src));
}

/**
 * Loads and registers the cells of `refs` that are not loaded yet. A recorded file must lie inside `baseDir`
 * and match the recorded hash (checked before it runs) unless it is an override. Returns the definitions by
 * recorded sha256. Runs user code.
 */
export function loadCustomCells(refs: readonly CustomCellRef[], opts: LoadCellsOptions): Map<string, CustomCellDef> {
  const out = new Map<string, CustomCellDef>();
  for (const ref of refs) {
    const have = findCustomCell(ref) as CustomCellDef | undefined;
    if (have && !opts.override) {
      out.set(ref.sha256, have);
      continue;
    }
    // A recorded cell is confined to the folder and hash-checked before any of it is transpiled or run; an
    // override is the user's explicit choice, so a changed hash is only a warning.
    const src = opts.override ? readCellSource(opts.override) : readRecordedCell(ref, opts.baseDir);
    const def = cellDefFromSource(src);
    if (opts.override && def.custom.sha256 !== ref.sha256) {
      opts.warn?.(
        `using ${src.file} (sha256 ${def.custom.sha256.slice(0, 12)}…), which differs from the recorded cell "${ref.name}" (${ref.sha256.slice(0, 12)}…)`,
      );
    }
    registerCustomCell(ref.sha256, def);
    registerCustomCell(def.custom.sha256, def);
    out.set(ref.sha256, def);
  }
  return out;
}

/** The custom cell references in the metadata of one of our safetensors files (model or checkpoint). */
export function customRefsInFile(path: string): CustomCellRef[] {
  let metadata: Record<string, string>;
  try {
    metadata = readSafetensors(readFileSync(path)).metadata;
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`); // a damaged checkpoint or model: name the file
  }
  if (typeof metadata.architecture !== 'string') return [];
  try {
    const raw = JSON.parse(metadata.architecture) as { layers?: unknown };
    if (!Array.isArray(raw.layers)) return [];
    return customRefs({ layers: raw.layers as Architecture['layers'] }).filter(
      (r) => typeof r.sha256 === 'string' && typeof r.source === 'string',
    );
  } catch {
    return []; // the model-file parser reports malformed metadata properly
  }
}

/** Throws unless the custom layers' tensors match their loaded cells' declared shapes (call after loading). */
export function checkCustomLayerParams(model: Model): void {
  if (customRefs(model.arch).length === 0) return;
  const expected = expectedParamShapes(model.arch);
  for (const [name, shape] of expected) {
    if (!name.startsWith('layers.')) continue;
    const t = model.params.get(name);
    if (!t) throw new Error(`the model has no tensor "${name}" that its cell declares (shape [${shape.join(', ')}])`);
    if (t.shape.join(',') !== shape.join(','))
      throw new Error(`tensor "${name}" has shape [${t.shape.join(', ')}], but the cell declares [${shape.join(', ')}]`);
  }
  for (const name of model.params.keys()) {
    if (!expected.has(name)) throw new Error(`tensor "${name}" is not a parameter of the model's cells`);
  }
}

export interface LoadModelOptions {
  /** Run custom cell code if the model needs it (false: throw, naming the cell). */
  allowCustomCells: boolean;
  /** Cell file to use instead of the one the model records (CLI --cell). */
  cell?: string;
  warn?: (message: string) => void;
}

/**
 * loadModel() for models that may use custom cells: loads the referenced cells (from the metadata, relative
 * to the model's folder, or `cell`), then parses the model strictly against their parameter shapes.
 */
export function loadModelWithCustomCells(path: string, opts: LoadModelOptions): { model: Model; warnings: string[] } {
  const first = loadModel(path); // custom layers' tensors are accepted as stored until their cell is loaded
  const refs = customRefs(first.model.arch);
  if (refs.length === 0) {
    if (opts.cell) opts.warn?.(`--cell ${opts.cell} ignored: the model uses no custom cell`);
    return first;
  }
  if (!opts.allowCustomCells) throw new Error(`cannot load ${path}: ${customCellsDisabledMessage(refs[0].name, refs[0].source)}`);
  loadCustomCells(refs, { baseDir: dirname(resolve(path)), override: opts.cell, warn: opts.warn });
  return loadModel(path);
}
