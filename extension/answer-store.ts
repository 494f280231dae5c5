/**
 * Answers about foreign model files (PyTorch, Keras, TF.js: what their readout feeds, …), remembered in the
 * extension's own storage (a Memento: context.globalState), keyed by the model's path. Never next to the
 * model: a model folder may come from anywhere, its sidecar file may be a link, and in Restricted Mode
 * nothing should be written into the workspace. Free of vscode imports, so unit tests drive it directly.
 */
import type { ArchitectureAnswers } from '../core/formats/errors';

/** The part of vscode.Memento used here. */
export interface AnswerMemento {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

export const ANSWERS_KEY = 'rnnMemory.modelAnswers';
/** Models remembered at most (the oldest answered are forgotten first). */
const MAX_MODELS = 200;
const MAX_VALUE = 200;

type Stored = Record<string, ArchitectureAnswers>;

export class AnswerStore {
  constructor(
    private readonly memento: AnswerMemento,
    private readonly maxModels = MAX_MODELS,
  ) {}

  /** The remembered answers for this model file (string values only: the memento is not trusted blindly). */
  get(path: string): ArchitectureAnswers | undefined {
    const entry = this.all()[path];
    if (typeof entry !== 'object' || entry === null) return undefined;
    const out: ArchitectureAnswers = {};
    for (const [k, v] of Object.entries(entry)) if (typeof v === 'string' && v.length <= MAX_VALUE) out[k] = v;
    return Object.keys(out).length ? out : undefined;
  }

  /** Merges `answers` into what is remembered for `path`; that model becomes the most recent. */
  async set(path: string, answers: ArchitectureAnswers): Promise<void> {
    const all = this.all();
    const merged = { ...this.get(path), ...answers };
    delete all[path];
    const keys = Object.keys(all);
    for (const k of keys.slice(0, Math.max(0, keys.length - this.maxModels + 1))) delete all[k];
    await this.memento.update(ANSWERS_KEY, { ...all, [path]: merged });
  }

  private all(): Stored {
    const v = this.memento.get<unknown>(ANSWERS_KEY);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? { ...(v as Stored) } : {};
  }
}
