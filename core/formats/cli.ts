/** Command-line glue: `--answer key=value[,key=value…]` and opening any model format with its warnings printed. */
import { openAnyModel, type OpenedModel } from './detect';
import { FormatError, type ArchitectureAnswers } from './errors';

/** Parses `k1=v1,k2=v2` (one --answer flag, since flags may not repeat). */
export function parseAnswerFlag(value: string | undefined): ArchitectureAnswers {
  const out: ArchitectureAnswers = {};
  if (value === undefined) return out;
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (eq <= 0 || !k || !v) throw new FormatError(`--answer expects key=value[,key=value…], got ${JSON.stringify(part)}`);
    out[k] = v;
  }
  return out;
}

/**
 * Opens a model of any supported format for a CLI command, printing warnings to `err`. The answers are
 * stored next to the model only when `remember` (--remember-answers) says so.
 */
export async function openModelForCli(
  path: string,
  answerFlag: string | undefined,
  err: NodeJS.WritableStream = process.stderr,
  remember = false,
): Promise<OpenedModel> {
  const opened = await openAnyModel(path, { answers: parseAnswerFlag(answerFlag), remember });
  for (const w of opened.warnings) err.write(`warning: ${w}\n`);
  return opened;
}
