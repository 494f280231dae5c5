/** What the extension hands the diagnostics worker (dist/diagnose-worker.js) and what comes back. */
import type { EngineName } from '../train/types';
import type { DiagnosticReport } from './types';

export interface DiagnoseWorkerInput {
  modelPath: string;
  engine?: EngineName;
  /** Sequence length of the probe input; default: the model's training T (diagnose decides). */
  T?: number;
  seed?: number;
  /** Whether a custom cell the model uses may be loaded and run (extension: only in trusted workspaces). */
  allowCustomCells?: boolean;
}

export type DiagnoseWorkerOutput = { type: 'report'; report: DiagnosticReport } | { type: 'error'; message: string };
