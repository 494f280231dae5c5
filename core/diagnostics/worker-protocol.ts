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
  /** Retention batch and probe training sizes (settings rnnMemory.diagnostics.retentionBatch / probeTrain). */
  retention?: { batch?: number; probeTrain?: number };
}

export type DiagnoseWorkerOutput =
  | { type: 'report'; report: DiagnosticReport }
  | { type: 'error'; message: string }
  /** A foreign model file needs these answers (openAnyModel's NeedsAnswers); ask and run again with them. */
  | { type: 'needsAnswers'; message: string; questions: Question[] };
