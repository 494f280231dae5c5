/** `rnn-memory`: the headless command line over core/ (train, trace, demo). */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlagReader, parseArgs, UsageError } from './args';
import { runDemo } from './demo';
import { cmdDiagnose, DIAGNOSE_HELP } from './diagnose';
import { cmdReproduce, REPRODUCE_HELP } from './reproduce';
import { cmdSweep, SWEEP_HELP } from './sweep';
import { cmdRuns } from './runs';
import { loadCustomCellsForCli, prepareCustomTraining } from './custom-cell';
import {
  engineAnnouncement,
  checkValueCount,
  DEFAULT_MAX_INPUT_MB,
  DEFAULT_MAX_TRACE_VALUES,
  engineFlag,
  positiveFlag,
  readInputJson,
} from './input-limits';
import { ProgressPrinter } from './progress';
import { trainConfigFlags } from './train-flags';
import { trainOptionsHelp } from '../train/config-schema';
import { closeAllHelpers } from '../torch/helper-process';
import { openTorchForCli, readTorchFlags } from './torch-model';
import { openModelForCli } from '../formats/cli';
import { parseSequences, traceModel } from '../model/trace';
import { traceValueCount } from '../model/trace-size';
import { engineWarnings } from '../model/finite-params';
import { cellFor, engineFallbackReason, resolveEngine } from '../engine/index';
import { checkOptionValues } from '../train/config';
import { existingRunFiles } from '../train/run';
import { startTraining } from '../train/runner';
import type { TrainConfig, TrainEvent } from '../train/types';
import type { CellKind } from '../cells/types';

export const HELP = `rnn-memory — train and inspect recurrent networks (BRC, nBRC, GRU, LSTM)

Usage:
  rnn-memory train --task copy|denoise|smnist --cell brc|nbrc|gru|lstm|FILE.ts --out DIR [--overwrite] [options]
  rnn-memory train --resume DIR [--steps N] [--cell FILE.ts]
  rnn-memory trace --model FILE --input FILE.json [--out FILE.json] [--answer key=value,…] [--remember-answers]
                   [--cell FILE.ts] [--engine fast|native|wasm|reference] [--max-input-mb 64] [--max-values 10000000]
  rnn-memory trace --torch FILE.py:NAME [--weights W] [--torch-args JSON] [--cells A,B] [--python PY] [--device cpu|cuda] --input FILE.json
  rnn-memory diagnose --torch FILE.py:NAME [--weights W] [...] (--task copy --T 300 | --input FILE.json) [--out report.json] [--html report.html]
  rnn-memory diagnose --model FILE [--task copy --T 300 --batch 64 --seed 1 | --input FILE.json] [--out report.json] [--html report.html]
  rnn-memory runs [DIR] [--json]
  rnn-memory diagnose --run DIR [--step N] [--task copy --T 300 | --input FILE.json] [--python PY] [--out report.json]
  rnn-memory sweep [--task copy|denoise|smnist] --cells brc,nbrc,gru,lstm --T 5,50,100,300,600 [--N 0,200] [--seeds 1,2,3] [--parallel 2] --out DIR
  rnn-memory reproduce [--budget quick|paper] [--seeds 1,2,3] [--out DIR]
  rnn-memory demo [--out DIR] [--seconds 120]
  rnn-memory help | version

train options (defaults follow the paper's first code version):
${trainOptionsHelp()}
  --json             print events as JSON lines instead of a progress bar
  --overwrite        replace the run already in --out DIR (without it, train refuses such a folder)
Ctrl-C stops training after the current step, saves a checkpoint and exits; resume with --resume DIR.
--resume refuses a checkpoint that fails its checksum or holds NaN/Inf (or beyond-float32) values,
and then changes nothing in DIR.

trace options: as diagnose's --answer, --remember-answers, --cell, --engine and --max-input-mb; --max-values N
  refuses an input whose trace (B·T·(units + gates) per layer, plus outputs) has more numbers (10000000).

${DIAGNOSE_HELP}

${SWEEP_HELP}

${REPRODUCE_HELP}
`;

/** `train --out DIR` on a folder that holds a run: refused, unless --overwrite (which removes that run's files). */
function refuseExistingRun(outDir: string, overwrite: boolean): void {
  const existing = existingRunFiles(outDir);
  if (existing.length === 0) return;
  if (!overwrite) {
    throw new UsageError(
      `${outDir} already holds a run (${existing.join(', ')}); continue it with --resume ${outDir}, choose another --out, or replace it with --overwrite`,
    );
  }
  for (const f of existing) rmSync(join(outDir, f), { force: true });
}

async function cmdTrain(f: FlagReader): Promise<number> {
  const resumeDir = f.string('resume');
  const json = f.bool('json');
  let outDir: string;
  let config: Partial<TrainConfig> | undefined;
  let steps: number | undefined;
  let customCell: string | undefined;
  let overwrite = false;
  if (resumeDir) {
    if (f.bool('overwrite')) throw new UsageError('--overwrite starts a new run in --out DIR; it does not combine with --resume');
    steps = f.int('steps');
    customCell = f.string('cell'); // a custom-cell run continues with this file (e.g. after editing it)
    outDir = resumeDir;
  } else {
    outDir = f.requireString('out');
    overwrite = f.bool('overwrite');
    config = trainConfigFlags(f);
    if (!config.task) throw new UsageError('train needs --task (copy, denoise or smnist)');
    if (!config.cell) throw new UsageError('train needs --cell (brc, nbrc, gru, lstm or a cell file, see docs/custom-cells.md)');
    // Refused before anything is written: a bad value would otherwise leave a failed run in --out.
    try {
      checkOptionValues(config);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  f.finish();
  if (!resumeDir) refuseExistingRun(outDir, overwrite);
  const custom = await prepareCustomTraining({ config, resumeDir, cell: customCell });
  const printer = new ProgressPrinter(process.stderr);
  const onEvent = (e: TrainEvent) => {
    if (json) {
      process.stdout.write(JSON.stringify(e) + '\n');
      return;
    }
    if (e.type === 'progress') printer.update(e);
    else if (e.type === 'eval') {
      printer.break();
      const m = e.metricName === 'accuracy' ? `accuracy ${(100 * e.metric).toFixed(2)}%` : `mse ${e.metric.toPrecision(4)}`;
      process.stderr.write(`step ${e.step}: test loss ${e.testLoss.toPrecision(4)}, ${m}\n`);
    }
  };
  if (!json) {
    const engineWanted = config?.engine ?? 'fast';
    const engine = resolveEngine(engineWanted);
    const why = custom ? undefined : engineFallbackReason(engineWanted);
    process.stderr.write(
      `${resumeDir ? 'resuming' : 'training'} in ${outDir} (${custom ? custom.description : `engine: ${engine}`})${why ? `; ${why}` : ''}\n`,
    );
  }
  // The CLI runs the user's own cell files: custom cells are allowed (a resumed run may use one).
  const handle = startTraining({ outDir, config, resume: !!resumeDir, steps, onEvent, allowCustomCells: true, customCell });
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      printer.break();
      process.stderr.write('stopping after the current step and saving a checkpoint (Ctrl-C again to abort now)…\n');
      handle.cancel();
    } else {
      void handle.kill();
    }
  };
  process.on('SIGINT', onSigint);
  try {
    const done = await handle.done;
    printer.break();
    if (done.reason === 'cancelled') {
      process.stderr.write(
        `stopped at step ${done.step}; model saved to ${done.modelPath}; resume with: rnn-memory train --resume ${outDir}\n`,
      );
      return 130;
    }
    process.stderr.write(
      `done: ${done.step} steps${done.skipped ? ` (${done.skipped} updates skipped: non-finite gradients)` : ''}; model saved to ${done.modelPath}\n`,
    );
    if (done.best)
      process.stderr.write(
        `best: test ${done.best.metricName} ${done.best.metric.toPrecision(4)} at step ${done.best.step}; saved to ${done.best.path}\n`,
      );
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

async function cmdTrace(f: FlagReader): Promise<number> {
  const torch = readTorchFlags(f);
  if (torch && f.string('model') !== undefined) throw new UsageError('give either --model or --torch, not both');
  const modelPath = torch ? torch.file : f.requireString('model');
  const inputPath = f.requireString('input');
  const outPath = f.string('out');
  const answer = f.string('answer');
  const remember = f.bool('remember-answers');
  const engineWanted = engineFlag(f) ?? 'fast';
  const cell = f.string('cell');
  const maxInputMb = positiveFlag(f, 'max-input-mb', DEFAULT_MAX_INPUT_MB);
  const maxValues = positiveFlag(f, 'max-values', DEFAULT_MAX_TRACE_VALUES);
  f.finish();
  // A PyTorch model needs the input's width before it starts; a model file is opened (and named in errors) first.
  const torchJson = torch ? readInputJson(inputPath, maxInputMb) : undefined;
  const torchModel = torch && openTorchForCli(torch, { input: torchJson, inputPath }, process.stderr);
  const { model } = torchModel || (await openModelForCli(modelPath, answer, process.stderr, remember));
  if (!torchModel) loadCustomCellsForCli(model, modelPath, cell);
  const input = parseSequences(torchJson ?? readInputJson(inputPath, maxInputMb), model.arch.inputSize, inputPath);
  // Announced once model and input are valid and within --max-values (a refused one stays a one-line error).
  // A PyTorch model runs in the user's Python: no engine of ours to announce.
  const announced = torch ? null : engineAnnouncement(engineWanted, model.arch);
  const engine = announced?.engine ?? resolveEngine(engineWanted);
  const cells = (kind: CellKind) => cellFor(kind, engine);
  checkValueCount(
    traceValueCount(model.arch, input.B, input.T, cells),
    maxValues,
    `tracing ${input.B} sequence${input.B === 1 ? '' : 's'} of ${input.T} steps`,
  );
  if (announced) process.stderr.write(announced.line);
  for (const w of engineWarnings(model.params, engine)) process.stderr.write(`warning: ${w}\n`);
  const out = traceModel(model, input, cells);
  const text = JSON.stringify(out);
  if (outPath) writeFileSync(outPath, text);
  else process.stdout.write(text + '\n');
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const { command, flags, positional } = parseArgs(argv);
    const f = new FlagReader(flags, command ?? '');
    if (flags.has('help') || flags.has('h')) {
      process.stdout.write(HELP);
      return 0;
    }
    switch (command) {
      case undefined:
      case 'help':
        process.stdout.write(HELP);
        return command === undefined ? 2 : 0;
      case 'version':
        process.stdout.write('rnn-memory 0.1.0\n');
        return 0;
      case 'train':
        return await cmdTrain(f);
      case 'trace':
        return await cmdTrace(f);
      case 'diagnose':
        return await cmdDiagnose(f);
      case 'sweep':
        return await cmdSweep(f);
      case 'runs':
        return cmdRuns(f, positional);
      case 'reproduce':
        return await cmdReproduce(f);
      case 'demo': {
        const out = f.string('out') ?? 'demo-output';
        const seconds = f.number('seconds') ?? 120;
        f.finish();
        return await runDemo(out, seconds);
      }
      default:
        throw new UsageError(`unknown command "${command}" (see rnn-memory help)`);
    }
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`rnn-memory: ${msg}\n`);
    return e instanceof UsageError ? 2 : 1;
  } finally {
    closeAllHelpers(); // a PyTorch model's Python helper never outlives its command
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
