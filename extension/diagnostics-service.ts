/**
 * Diagnoses model files in worker threads (dist/diagnose-worker.js) so the extension host never blocks.
 * Reports are cached per file version (path + size + mtime) and options; concurrent requests share a worker.
 */
import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { DiagnoseWorkerInput, DiagnoseWorkerOutput } from '../core/diagnostics/worker-protocol';
import { customCellsAllowed } from '../core/custom/policy';
import type { DiagnosticReport } from '../core/diagnostics/types';
import type { Question } from '../core/formats/errors';

export type DiagnoseRequest = DiagnoseWorkerInput;

/** The worker could not open a foreign model file without these answers. */
export class ModelNeedsAnswers extends Error {
  constructor(
    message: string,
    readonly questions: Question[],
  ) {
    super(message);
    this.name = 'ModelNeedsAnswers';
  }
}

export class DiagnosticsService {
  private readonly cache = new Map<string, Promise<DiagnosticReport>>();
  private readonly workers = new Set<Worker>();

  constructor(
    private readonly workerScript: string,
    private readonly maxEntries = 16,
  ) {}

  static cacheKey(req: DiagnoseRequest): string {
    const st = statSync(req.modelPath);
    return JSON.stringify([req.modelPath, st.size, st.mtimeMs, req.engine ?? '', req.T ?? '', req.seed ?? '', req.answers ?? {}, req.retention ?? {}]);
  }

  /** The report for the file as it is now; rejects with the worker's message on failure. */
  get(req: DiagnoseRequest): Promise<DiagnosticReport> {
    let key: string;
    try {
      key = DiagnosticsService.cacheKey(req);
    } catch (e) {
      return Promise.reject(new Error(`cannot read ${req.modelPath}: ${(e as Error).message}`));
    }
    const hit = this.cache.get(key);
    if (hit) return hit;
    const p = this.run(req);
    this.cache.set(key, p);
    p.catch(() => this.cache.delete(key));
    while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    return p;
  }

  /** Whether a report for this file version is already computed or on its way. */
  has(req: DiagnoseRequest): boolean {
    try {
      return this.cache.has(DiagnosticsService.cacheKey(req));
    } catch {
      return false;
    }
  }

  /** Stops every running diagnosis (their promises reject). */
  cancelAll(): void {
    for (const w of this.workers) void w.terminate();
  }

  dispose(): void {
    this.cancelAll();
    this.cache.clear();
  }

  private run(req: DiagnoseRequest): Promise<DiagnosticReport> {
    return new Promise((resolve, reject) => {
      const workerData: DiagnoseWorkerInput = { ...req, allowCustomCells: req.allowCustomCells ?? customCellsAllowed() };
      const worker = new Worker(this.workerScript, { workerData });
      this.workers.add(worker);
      let settled = false;
      const finish = (err: Error | null, report?: DiagnosticReport) => {
        if (settled) return;
        settled = true;
        this.workers.delete(worker);
        if (err) reject(err);
        else resolve(report!);
      };
      worker.on('message', (m: DiagnoseWorkerOutput) => {
        if (m.type === 'report') finish(null, m.report);
        else if (m.type === 'needsAnswers') finish(new ModelNeedsAnswers(m.message, m.questions));
        else finish(new Error(m.message));
        void worker.terminate();
      });
      worker.on('error', (e) => finish(new Error(`diagnostics worker crashed: ${e.message}`)));
      worker.on('exit', (code) => finish(new Error(code === 1 ? 'diagnosis cancelled' : `diagnostics worker exited (code ${code})`)));
    });
  }
}
