/**
 * Diagnoses model files in worker threads (dist/diagnose-worker.js) so the extension host never blocks.
 * Reports are cached per file version (path + size + mtime) and options; concurrent requests share a worker.
 */
import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { DiagnoseWorkerInput, DiagnoseWorkerOutput } from '../core/diagnostics/worker-protocol';
import { customCellsAllowed } from '../core/custom/policy';
import { clampMemoryLimitMb, workerOutOfMemoryMessage, workerResourceLimits } from '../core/diagnostics/limits';
import type { DiagnosticReport } from '../core/diagnostics/types';
import type { Question } from '../core/formats/errors';

export type DiagnoseRequest = DiagnoseWorkerInput;

export const MEMORY_SETTING = 'rnnMemory.diagnostics.memoryLimitMb';

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
    /** rnnMemory.diagnostics.memoryLimitMb: the worker's heap limit and the diagnosis's memory budget. */
    private readonly memoryLimitMb: () => number | undefined = () => undefined,
  ) {}

  static cacheKey(req: DiagnoseRequest): string {
    const st = statSync(req.modelPath);
    // Every option of the request is part of the key (a changed setting means another report).
    const { modelPath, ...options } = req;
    return JSON.stringify([modelPath, st.size, st.mtimeMs, options]);
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
      const memoryLimitMb = clampMemoryLimitMb(req.memoryLimitMb ?? this.memoryLimitMb());
      const workerData: DiagnoseWorkerInput = { ...req, memoryLimitMb, allowCustomCells: req.allowCustomCells ?? customCellsAllowed() };
      // A hostile file must never take the editor down: the worker's heap is capped (typed arrays are not
      // counted by V8, so the diagnosis also checks its estimated memory before computing).
      const worker = new Worker(this.workerScript, { workerData, resourceLimits: workerResourceLimits(memoryLimitMb) });
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
      worker.on('error', (e) =>
        finish(new Error(workerOutOfMemoryMessage(e, MEMORY_SETTING) ?? `diagnostics worker crashed: ${e.message}`)),
      );
      worker.on('exit', (code) => finish(new Error(code === 1 ? 'diagnosis cancelled' : `diagnostics worker exited (code ${code})`)));
    });
  }
}
