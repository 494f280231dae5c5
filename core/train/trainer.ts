/**
 * One training run held in memory: model, optimiser, data stream and counters. Synchronous; the worker
 * (or a test) drives it step by step. Everything that determines the future — parameters, Adam moments,
 * the data RNG, the step counter — is captured by `snapshot()` so a resumed run continues exactly.
 */
import type { CellResolver } from '../model/network';
import { createModel, forward, computeLoss, lossAndGrads } from '../model/network';
import type { Model } from '../model/model';
import { makeTask } from '../tasks/index';
import { releaseForward } from '../engine/index';
import type { Batch, Task } from '../tasks/types';
import { Rng, type RngState } from '../util/rng';
import { Adam, allFinite, clipGlobalNorm } from './adam';
import { architectureFor } from './config';
import { curriculumStages, stageAt, type CurriculumStage } from './curriculum';
import type { TrainConfig } from './types';

export interface TrainerState {
  step: number;
  skipped: number;
  adamT: number;
  rng: RngState;
}

export interface StepOutcome {
  loss: number;
  /** True when the non-finite guard skipped this update. */
  skipped: boolean;
  gradNorm: number;
  /** Time steps of the batch (shorter than the task's while a curriculum stage is active). */
  seqLen: number;
}

export interface EvalOutcome {
  testLoss: number;
  metric: number;
  metricName: 'mse' | 'accuracy';
}

export interface TrainerResume {
  model: Model;
  adamM: Map<string, Float64Array>;
  adamV: Map<string, Float64Array>;
  state: TrainerState;
}

export class Trainer {
  readonly task: Task;
  readonly model: Model;
  readonly adam: Adam;
  readonly rng: Rng;
  step = 0;
  skipped = 0;
  private testSet: Batch[] | undefined;
  private readonly stages: CurriculumStage[];
  /** Training-data generators of the curriculum stages, by stage length. */
  private readonly stageTasks = new Map<number, Task>();

  constructor(
    readonly config: TrainConfig,
    private readonly cells: CellResolver,
    resume?: TrainerResume,
    dataPath?: string,
  ) {
    this.task = makeTask({ task: config.task, T: config.T, N: config.N, seed: config.seed, testSize: config.testSize, dataPath });
    this.adam = new Adam({ lr: config.lr });
    this.stages = curriculumStages(config);
    if (resume) {
      this.model = resume.model;
      this.rng = new Rng(resume.state.rng);
      this.step = resume.state.step;
      this.skipped = resume.state.skipped;
      this.adam.t = resume.state.adamT;
      for (const [k, v] of resume.adamM) this.adam.m.set(k, v);
      for (const [k, v] of resume.adamV) this.adam.v.set(k, v);
    } else {
      // Separate streams for initialisation and data, both from the seed.
      const root = new Rng(config.seed);
      const initRng = root.fork();
      this.rng = root.fork();
      this.model = createModel(architectureFor(config, this.task), initRng);
    }
  }

  /** Draws the next training batch (of the current curriculum stage, if any) and trains on it. */
  trainStep(): StepOutcome {
    return this.trainOn(this.trainTask().trainBatch(this.rng, this.config.batch));
  }

  /** The generator of the next training batch: the task itself, or a shorter copy of it during a curriculum. */
  trainTask(): Task {
    const stage = stageAt(this.stages, this.config.curriculum, this.step);
    if (!stage) return this.task;
    let t = this.stageTasks.get(stage.T);
    if (!t) {
      t = makeTask({ task: this.config.task, T: stage.T, N: stage.N, seed: this.config.seed, testSize: 0 });
      this.stageTasks.set(stage.T, t);
    }
    return t;
  }

  /** One update on a given batch: forward, BPTT, guard, optional clipping, Adam. */
  trainOn(batch: Batch): StepOutcome {
    const res = lossAndGrads(this.model, batch.x, batch.T, batch.B, { y: batch.y, labels: batch.labels }, this.cells);
    this.step++;
    if (!Number.isFinite(res.loss) || !allFinite(res.grads)) {
      releaseForward(res.fr);
      this.skipped++;
      return { loss: res.loss, skipped: true, gradNorm: NaN, seqLen: batch.T };
    }
    const gradNorm = clipGlobalNorm(res.grads, this.config.clipNorm);
    this.adam.update(this.model.params, res.grads);
    // Hand the fast engine's per-step buffers back for reuse (fewer page faults, less memory).
    releaseForward(res.fr);
    return { loss: res.loss, skipped: false, gradNorm, seqLen: batch.T };
  }

  /** Mean loss and metric over the fixed test set. */
  evaluate(): EvalOutcome {
    this.testSet ??= this.task.testBatches(Math.min(this.config.batch, 500));
    let loss = 0;
    let metric = 0;
    let n = 0;
    let metricName: EvalOutcome['metricName'] = 'mse';
    for (const b of this.testSet) {
      const fr = forward(this.model, b.x, b.T, b.B, this.cells);
      const r = computeLoss(this.model.arch, fr.out, { y: b.y, labels: b.labels });
      releaseForward(fr);
      loss += r.loss * b.B;
      metric += r.metric * b.B;
      n += b.B;
      metricName = r.metricName;
    }
    return { testLoss: loss / n, metric: metric / n, metricName };
  }

  snapshot(): TrainerResume {
    const copy = (m: Map<string, Float64Array>) => new Map([...m].map(([k, v]) => [k, v.slice()]));
    return {
      model: {
        arch: this.model.arch,
        params: new Map([...this.model.params].map(([k, t]) => [k, { shape: [...t.shape], data: t.data.slice() }])),
      },
      adamM: copy(this.adam.m),
      adamV: copy(this.adam.v),
      state: { step: this.step, skipped: this.skipped, adamT: this.adam.t, rng: this.rng.getState() },
    };
  }
}
