/**
 * `--cell FILE.ts` for `rnn-memory train`: checks the cell in a worker with a time limit (core/custom/probe)
 * and turns the flag into the config's custom cell reference. The training worker then loads the cell again.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Model } from '../model/model';
import { probeCustomCell, probeSizes } from '../custom/cell-check';
import { checkCustomLayerParams, customRefs, loadCustomCells } from '../custom/resolve';
import { isCellPath } from '../custom/source';
import { normalizeConfig } from '../train/config';
import { RUN_FILES } from '../train/run';
import type { TrainConfig } from '../train/types';

export interface CustomTrainingPlan {
  /** For the "training in …" line. */
  description: string;
}

/**
 * When `config.cell` is a cell file: probes it and rewrites config.cell/config.custom (source absolute; the
 * run stores it relative to its folder). When resuming with `--cell`: probes that file. Otherwise undefined.
 */
export async function prepareCustomTraining(opts: {
  config?: Partial<TrainConfig>;
  resumeDir?: string;
  cell?: string;
}): Promise<CustomTrainingPlan | undefined> {
  if (opts.config && typeof opts.config.cell === 'string' && isCellPath(opts.config.cell)) {
    const file = resolve(opts.config.cell);
    const c = normalizeConfig({ ...opts.config, cell: 'brc', custom: undefined });
    const info = await probeCustomCell(file, { sizes: probeSizes(c) });
    opts.config.cell = 'custom';
    opts.config.custom = { name: info.name, source: file, sha256: info.sha256 };
    return { description: `custom cell "${info.name}" from ${file}, engine: ${info.backend}` };
  }
  if (opts.resumeDir && opts.cell) {
    const file = resolve(opts.cell);
    let sizes: { inputSize: number; units: number }[] | undefined;
    const cfgPath = join(opts.resumeDir, RUN_FILES.config);
    try {
      if (existsSync(cfgPath))
        sizes = probeSizes(
          normalizeConfig({ ...(JSON.parse(readFileSync(cfgPath, 'utf8')) as Partial<TrainConfig>), cell: 'brc', custom: undefined }),
        );
    } catch {
      // the worker reports an unreadable run properly
    }
    const info = await probeCustomCell(file, { sizes });
    return { description: `custom cell "${info.name}" from ${file}, engine: ${info.backend}` };
  }
  return undefined;
}

/**
 * `rnn-memory diagnose` of a model with custom layers: loads their cells into this process (the file the
 * model records, relative to the model, or `cell`) and checks the tensors against them. A no-op otherwise.
 */
export function loadCustomCellsForCli(
  model: Model,
  modelPath: string,
  cell: string | undefined,
  err: NodeJS.WritableStream = process.stderr,
): void {
  const refs = customRefs(model.arch);
  if (refs.length === 0) {
    if (cell) err.write(`warning: --cell ${cell} ignored: the model uses no custom cell\n`);
    return;
  }
  const warn = (m: string) => err.write(`warning: ${m}\n`);
  loadCustomCells(refs, { baseDir: dirname(resolve(modelPath)), override: cell, warn });
  checkCustomLayerParams(model);
}
