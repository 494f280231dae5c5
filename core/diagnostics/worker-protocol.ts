/** What the extension hands the diagnostics worker (dist/diagnose-worker.js) and what comes back. */
import type { EngineName } from '../train/types';
import type { ArchitectureAnswers, Question } from '../formats/errors';
import type { DiagnosticReport } from './types';

export interface DiagnoseWorkerInput {
  modelPath: string;
  engine?: EngineName;
  /** Sequence length of the probe input; default: the model's training T (diagnose decides). */
  T?: number;
  seed?: number;
  /** Whether a custom cell the model uses may be loaded and run (extension: only in trusted workspaces). */
  allowCustomCells?: boolean;
  /** Answers for a foreign model file (PyTorch, Keras, TF.js) whose architecture the file leaves open. */
  answers?: ArchitectureAnswers;
  /**
   * Fixed-point search settings (rnnMemory.diagnose.fixedPoint*): x* applies only to models with that many
   * inputs (others use their task's default).
   */
  fixedPoints?: { input?: number[]; starts?: number; steps?: number };
  /** Memory attribution settings (rnnMemory.diagnose.memoryThreshold / memoryMinSteps / memoryBatch); defaults when absent. */
  memory?: { threshold?: number; minSteps?: number; batch?: number };
  /** Sequences of the diagnosed batch and behind per-neuron batch means (rnnMemory.diagnostics.batch / batchSample). */
  batch?: number;
  batchSample?: number;
  /**
   * Memory budget in MB (setting rnnMemory.diagnostics.memoryLimitMb): the diagnosis refuses work estimated
   * above it (core/diagnostics/limits.ts) and the worker runs with V8 heap limits derived from it.
   */
  memoryLimitMb?: number;
  /** Sequences and random probes per sequence behind ‖∂h_T/∂h_t‖ (settings rnnMemory.diagnostics.jacobian*). */
  jacobianSequences?: number;
  jacobianProbes?: number;
  /** Retention batch and probe training sizes (settings rnnMemory.diagnostics.retentionBatch / probeTrain). */
  retention?: { batch?: number; probeTrain?: number };
  /**
   * How a PyTorch model (a *.torchmodel.json path, core/torch/model-spec.ts) runs: the Python (setting
   * rnnMemory.python.path or the selected interpreter), the device, and the modification times of its .py and
   * weights (only so that an edited file means another report). It runs only with allowCustomCells.
   */
  torch?: { python: string; device?: 'cpu' | 'cuda'; timeoutMs?: number; stamp?: string };
}

export type DiagnoseWorkerOutput =
  | { type: 'report'; report: DiagnosticReport }
  | { type: 'error'; message: string }
  /** A foreign model file needs these answers (openAnyModel's NeedsAnswers); ask and run again with them. */
  | { type: 'needsAnswers'; message: string; questions: Question[] };
