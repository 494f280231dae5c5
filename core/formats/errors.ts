/** Errors shared by the importers, and the structured questions an importer asks when names alone do not settle the architecture. */

export class FormatError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FormatError';
  }
}

export interface Choice {
  value: string;
  label: string;
}

export interface Question {
  /** Stable key, used as `--answer key=value` and in the sidecar file. */
  key: string;
  prompt: string;
  choices: Choice[];
  /** The most likely answer, for a pre-selected quick pick. */
  suggested?: string;
}

export type ArchitectureAnswers = Record<string, string>;

/** Thrown when a model can only be opened once the user has answered these questions. */
export class NeedsAnswers extends Error {
  readonly questions: Question[];
  constructor(questions: Question[], source = 'model') {
    const lines = questions.map((q) => `  ${q.key} = ${q.choices.map((c) => c.value).join(' | ')}   (${q.prompt})`);
    const example = questions.map((q) => `${q.key}=${q.suggested ?? q.choices[0].value}`).join(',');
    super(`${source}: the file does not say everything about the architecture; please answer:\n${lines.join('\n')}\ne.g. --answer ${example}`);
    this.name = 'NeedsAnswers';
    this.questions = questions;
  }
}

/**
 * Collects questions while an importer runs: `ask` returns the given answer (checked against the choices) or,
 * when missing, records the question and returns the suggestion so the import can go on and gather every
 * question in one pass; `finish` then throws NeedsAnswers if anything was unanswered.
 */
export class AnswerBook {
  private readonly missing: Question[] = [];
  readonly used: ArchitectureAnswers = {};
  constructor(private readonly answers: ArchitectureAnswers = {}) {}

  ask(q: Question): string {
    const given = Object.prototype.hasOwnProperty.call(this.answers, q.key) ? this.answers[q.key] : undefined;
    if (given !== undefined) {
      if (!q.choices.some((c) => c.value === given)) {
        throw new FormatError(`answer ${q.key}=${JSON.stringify(given)} is not one of ${q.choices.map((c) => c.value).join(', ')}`);
      }
      this.used[q.key] = given;
      return given;
    }
    if (!this.missing.some((m) => m.key === q.key)) this.missing.push(q);
    return q.suggested ?? q.choices[0].value;
  }

  finish(source: string): void {
    if (this.missing.length > 0) throw new NeedsAnswers(this.missing, source);
  }
}

export const READOUT_ACTIVATION_QUESTION: Question = {
  key: 'readout.activation',
  prompt: 'What does the final Linear layer feed: a regression loss (linear outputs) or a softmax / cross-entropy?',
  choices: [
    { value: 'linear', label: 'linear (regression, MSE)' },
    { value: 'softmax', label: 'softmax (classification, cross-entropy)' },
  ],
  suggested: 'linear',
};

export const READOUT_STEPS_QUESTION: Question = {
  key: 'readout.perStep',
  prompt: 'Is the final Linear layer applied to the last time step only, or to every time step?',
  choices: [
    { value: 'last', label: 'last step only (h_T)' },
    { value: 'every', label: 'every time step' },
  ],
  suggested: 'last',
};

/** Clip untrusted text for messages. */
export function clip(s: string, n = 80): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}
