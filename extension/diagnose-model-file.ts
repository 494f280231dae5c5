/**
 * Diagnoses a model file for the UI: the worker-backed DiagnosticsService, a window progress indicator, and
 * the questions a foreign model file (PyTorch, Keras, TF.js) may need answered before it can be opened.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { DiagnosticReport } from '../core/diagnostics/types';
import type { ArchitectureAnswers, Question } from '../core/formats/errors';
import type { EngineName } from '../core/train/types';
import type { AnswerStore } from './answer-store';
import type { DiagnoseWorkerInput } from '../core/diagnostics/worker-protocol';
import { isTorchSpecPath } from '../core/torch/model-spec';
import { DiagnosticsService, ModelNeedsAnswers } from './diagnosis-workers';

export class ModelDiagnoser implements vscode.Disposable {
  private readonly service: DiagnosticsService;
  /**
   * Answers for foreign model files, by path, for this session; they are also kept in the extension's own
   * storage (`store`), never written next to the model.
   */
  private readonly answers = new Map<string, ArchitectureAnswers>();
  private readonly asking = new Map<string, Promise<ArchitectureAnswers | undefined>>();

  constructor(
    workerScript: string,
    private readonly engine: () => EngineName,
    private readonly store?: AnswerStore,
    /** Diagnosis options from the settings (read at each diagnosis). */
    private readonly settings: () => Omit<DiagnoseWorkerInput, 'modelPath' | 'engine' | 'answers'> = () => ({}),
    /** How a PyTorch model (*.torchmodel.json) runs: the Python, the device, its files' stamp. */
    private readonly torch?: (path: string) => Promise<DiagnoseWorkerInput['torch']>,
  ) {
    this.service = new DiagnosticsService(workerScript, 16, () =>
      vscode.workspace.getConfiguration('rnnMemory.diagnostics').get<number>('memoryLimitMb'),
    );
  }

  /**
   * Runs (or reuses) a diagnosis in a worker. A foreign model file whose architecture is left open
   * (NeedsAnswers in the worker) gets its questions asked once, then runs again.
   */
  async diagnose(path: string): Promise<DiagnosticReport> {
    const torch = this.torch && isTorchSpecPath(path) ? await this.torch(path) : undefined;
    for (let attempt = 0; ; attempt++) {
      const req: DiagnoseWorkerInput = {
        ...this.settings(),
        ...(torch ? { torch } : {}),
        modelPath: path,
        engine: this.engine(),
        answers: this.answers.get(path) ?? this.store?.get(path),
      };
      try {
        if (this.service.has(req)) return await this.service.get(req);
        return await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Diagnosing ${basename(path)}` }, () =>
          this.service.get(req),
        );
      } catch (e) {
        if (!(e instanceof ModelNeedsAnswers) || attempt >= 3) throw e;
        const answers = await this.ask(path, e.questions);
        if (!answers) throw new Error(`${basename(path)} needs answers about its architecture; none were given`);
        this.setAnswers(path, answers);
      }
    }
  }

  /** Answers given ahead (the Open Model command's argument, tests) for a foreign model file. */
  setAnswers(path: string, answers: ArchitectureAnswers): void {
    this.answers.set(path, { ...this.store?.get(path), ...this.answers.get(path), ...answers });
    void this.store?.set(path, answers);
  }

  /** The answers used for a model file (this session's, else the remembered ones). */
  answersFor(path: string): ArchitectureAnswers | undefined {
    return this.answers.get(path) ?? this.store?.get(path);
  }

  dispose(): void {
    this.service.dispose();
  }

  /** One quick pick per question; concurrent diagnoses of the same file share one round of questions. */
  private ask(path: string, questions: Question[]): Promise<ArchitectureAnswers | undefined> {
    const pending = this.asking.get(path);
    if (pending) return pending;
    const p = (async () => {
      const out: ArchitectureAnswers = {};
      for (const [i, q] of questions.entries()) {
        const items = q.choices.map((c) => ({
          label: c.label,
          description: c.value === q.suggested ? 'suggested' : undefined,
          value: c.value,
        }));
        const pick = await vscode.window.showQuickPick(items, {
          title: `${basename(path)} (${i + 1}/${questions.length})`,
          placeHolder: q.prompt,
          ignoreFocusOut: true,
        });
        if (!pick) return undefined;
        out[q.key] = pick.value;
      }
      return out;
    })();
    this.asking.set(path, p);
    void p.finally(() => this.asking.delete(path));
    return p;
  }
}
