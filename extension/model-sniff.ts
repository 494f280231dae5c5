/**
 * Which files the extension offers as models: our .safetensors (sniffed by core/model/model-sniff) and the
 * foreign formats the diagnostics worker opens (PyTorch, Keras, TF.js). One list for the tree's scan and
 * watcher, the "Browse…" and "Open Model…" filters and the hints that name the formats.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { sniffModelFile } from '../core/model/model-sniff';
import { isTorchSpecPath } from '../core/torch/model-spec';
import type { Architecture } from '../core/model/architecture';

/** A model file the tree lists. */
export interface ModelEntry {
  path: string;
  /** Path relative to the workspace folder, for the description. */
  relPath: string;
  /** Known at once for our files (header sniff); foreign formats are described once diagnosed. */
  architecture?: Architecture;
  paramCount?: number;
  /** Opened by path (custom editor, Open Model) rather than found by the workspace scan. */
  opened?: boolean;
}

/** File extensions of the foreign formats the diagnostics worker opens with openAnyModel (safetensors aside). */
export const FOREIGN_MODEL_EXTENSIONS = ['pt', 'pth', 'keras', 'h5'] as const;

/** Every model file extension, for file dialogs (TF.js is model.json: 'json'). */
export const MODEL_FILE_EXTENSIONS = ['safetensors', ...FOREIGN_MODEL_EXTENSIONS, 'json'] as const;

/** The workspace glob of model files (tree scan and file watcher). */
export const MODEL_FILE_GLOB = '**/{*.safetensors,*.pt,*.pth,*.keras,*.h5,model.json}';

/** How hints name the formats. */
export const MODEL_FORMATS_TEXT = '.safetensors, .pt, .pth, .keras, .h5, TF.js model.json';

/** Whether a path may be a foreign model (PyTorch, Keras, TF.js), judged by its name only. */
export function isForeignModelPath(path: string): boolean {
  const lower = path.toLowerCase();
  if (isTorchSpecPath(path)) return true; // a PyTorch model the user described (Diagnose PyTorch Model…)
  return FOREIGN_MODEL_EXTENSIONS.some((e) => lower.endsWith(`.${e}`)) || lower.endsWith('model.json') || lower.endsWith('.safetensors');
}

/** "PyTorch checkpoint", "Keras model", … for a file's tree description before it is diagnosed. */
export function modelFormatName(path: string): string {
  const lower = path.toLowerCase();
  if (isTorchSpecPath(path)) return 'PyTorch model (your Python)';
  if (lower.endsWith('.pt') || lower.endsWith('.pth')) return 'PyTorch checkpoint';
  if (lower.endsWith('.keras') || lower.endsWith('.h5')) return 'Keras model';
  if (lower.endsWith('.json')) return 'TF.js model';
  return 'safetensors';
}

/** A model.json is listed only when it is a TF.js model (its start names "modelTopology"); reads 64 KiB at most. */
export function isTfjsModelJson(path: string): boolean {
  if (basename(path).toLowerCase() !== 'model.json') return false;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('utf8').includes('"modelTopology"');
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The tree entry of a model file: ours with their architecture from the header; PyTorch and Keras files by
 * name; a model.json only when it is a TF.js model; any other .safetensors (plain tensors) is not listed.
 */
export function modelEntry(path: string, root: string): ModelEntry | null {
  const relPath = relative(root, path);
  const lower = path.toLowerCase();
  if (lower.endsWith('.safetensors')) {
    const s = sniffModelFile(path);
    return s.kind === 'model' ? { path, relPath, architecture: s.architecture, paramCount: s.paramCount } : null;
  }
  if (lower.endsWith('.json')) return isTfjsModelJson(path) ? { path, relPath } : null;
  return { path, relPath };
}
