/**
 * Workspace fixtures made at test time with core/ itself: a briefly trained BRC model (so the maps have
 * structure), an untrained two-layer model, a foreign .safetensors file, and an interrupted run.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { referenceCell } from '../../core/cells/index';
import type { Architecture } from '../../core/model/architecture';
import { saveModel } from '../../core/model/model-file';
import { createModel } from '../../core/model/network';
import { writeSafetensors } from '../../core/model/safetensors';
import { runTraining, RUN_FILES } from '../../core/train/run';
import { Rng } from '../../core/util/rng';

export interface Fixtures {
  workspace: string;
  runsDir: string;
  trained: string;
  untrained: string;
  foreign: string;
  interruptedRun: string;
  interruptedDir: string;
  interruptedStep: number;
  /** Copies of the PyTorch fixtures (nn.GRU(3, 5, 2 layers) + Linear): a state dict and a torch.save checkpoint. */
  torchSafetensors: string;
  torchPt: string;
}

const FORMATS = join(__dirname, '..', 'fixtures', 'formats');

export function makeWorkspace(workspace: string, scratch = `${workspace}-fixture-train`): Fixtures {
  const models = join(workspace, 'models');
  const runsDir = join(workspace, 'runs');
  mkdirSync(models, { recursive: true });
  mkdirSync(runsDir, { recursive: true });

  // A BRC trained for a few hundred steps on copy-first-input (T = 20): bistable neurons hold x₁.
  runTraining({
    outDir: scratch,
    config: {
      task: 'copy',
      cell: 'brc',
      T: 20,
      layers: 2,
      units: 16,
      batch: 32,
      steps: 300,
      lr: 3e-3,
      evalEvery: 100,
      testSize: 100,
      checkpointEvery: 1000,
      engine: 'reference',
    },
    isCancelled: () => false,
    emit: () => undefined,
    cells: referenceCell,
  });
  const trained = join(models, 'brc-copy.safetensors');
  copyFileSync(join(scratch, RUN_FILES.model), trained);

  const arch: Architecture = {
    inputSize: 1,
    layers: [
      { cell: 'gru', units: 8 },
      { cell: 'lstm', units: 6 },
    ],
    readout: { units: 1, activation: 'linear', perStep: false },
    task: { name: 'copy', T: 15 },
  };
  const untrained = join(models, 'gru-lstm-untrained.safetensors');
  saveModel(untrained, createModel(arch, new Rng(7)));

  // Same container format, another producer: must not be listed as a model.
  const foreign = join(models, 'foreign.safetensors');
  writeFileSync(
    foreign,
    writeSafetensors(new Map([['w', { shape: [2, 2], data: new Float64Array([1, 2, 3, 4]) }]]), { format: 'pt' }, 'F32'),
  );

  // A run that crashed mid-way: stopped at step 40 of 80 with a checkpoint, run.json left at "running".
  const interruptedRun = '20260101-120000-copy-gru';
  const interruptedDir = join(runsDir, interruptedRun);
  let evalStep = 0;
  runTraining({
    outDir: interruptedDir,
    config: {
      task: 'copy',
      cell: 'gru',
      T: 10,
      layers: 1,
      units: 8,
      batch: 16,
      steps: 80,
      lr: 3e-3,
      evalEvery: 20,
      testSize: 50,
      checkpointEvery: 20,
      engine: 'reference',
    },
    isCancelled: () => evalStep >= 40,
    emit: (e) => {
      if (e.type === 'eval') evalStep = e.step;
    },
    cells: referenceCell,
  });
  const status = JSON.parse(readFileSync(join(interruptedDir, RUN_FILES.status), 'utf8'));
  if (status.step !== 40) throw new Error(`fixture run stopped at step ${status.step}, expected 40`);
  status.status = 'running';
  writeFileSync(join(interruptedDir, RUN_FILES.status), JSON.stringify(status));

  // Copied into the workspace, so that nothing a test does can touch test/fixtures.
  const torchSafetensors = join(models, 'torch-gru.safetensors');
  copyFileSync(join(FORMATS, 'torch-gru.safetensors'), torchSafetensors);
  const torchPt = join(models, 'torch-gru.pt');
  copyFileSync(join(FORMATS, 'torch-gru.pt'), torchPt);

  return {
    workspace,
    runsDir,
    trained,
    untrained,
    foreign,
    interruptedRun,
    interruptedDir,
    interruptedStep: 40,
    torchSafetensors,
    torchPt,
  };
}
