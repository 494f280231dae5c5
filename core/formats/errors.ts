/** Errors shared by the importers, and the structured questions an importer asks when names alone do not settle the architecture. */

/** Every message is one line with the file's control characters escaped: quoted names cannot drive a terminal. */
export class FormatError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(escapeControls(message), options);
    this.name = 'FormatError';
  }
}

/**
 * Renders C0 and C1 control characters, DEL, line/paragraph separators and bidirectional overrides as visible
 * escapes (`\x1b`, `\u202e`), so text taken from a file (entry names, pickle globals, tensor names) can be shown
 * on a terminal or in a panel as it is.
 */
export function escapeControls(s: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this matches
  return s.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const n = c.charCodeAt(0);
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

/**
 * Names what was wrong with the input when the JS engine ran out of something while reading it, instead of the
 * engine's own words ("Maximum call stack size exceeded", "Invalid typed array length", …). Undefined for other
 * errors.
 */
export function describeEngineError(e: unknown): string | undefined {
  if (!(e instanceof RangeError) && !(e instanceof Error && /allocation failed|out of memory/i.test(e.message))) return undefined;
  const m = e.message;
  if (/call stack/i.test(m)) return 'the file is too deeply nested to read';
  if (/typed array length|array buffer allocation|allocation failed|out of memory|array length|buffer size/i.test(m)) {
    return 'the file declares an array or tensor too large to hold in memory';
  }
  if (/string length/i.test(m)) return 'the file holds a string too long to read';
  return 'the file declares a size or value out of range';
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
    super(
      `${source}: the file does not say everything about the architecture; please answer:\n${lines.join('\n')}\ne.g. --answer ${example}`,
    );
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

/** Clip untrusted text for messages, with its control characters escaped. */
export function clip(s: string, n = 80): string {
  return escapeControls(s.length > n ? `${s.slice(0, n)}…` : s);
}
