/**
 * What the retention section needs from a model, in words. Pure (type imports only), so the webview can
 * explain a missing section without bundling the network code.
 */
import type { Architecture } from '../model/architecture';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Retention runs copy-first-input: one input, one linear output. */
export function retentionApplicable(arch: Architecture): boolean {
  return arch.inputSize === 1 && arch.readout.units === 1 && arch.readout.activation === 'linear';
}

/** Null when retention applies; otherwise what retention needs and what this model has instead. */
export function retentionNeeds(arch: Architecture): string | null {
  if (retentionApplicable(arch)) return null;
  const r = arch.readout;
  const readout = r.assumed
    ? `no readout layer (the top layer's state stands in: ${plural(r.units, 'value')})`
    : `${plural(r.units, `${r.activation} output`)}`;
  return `memory retention is measured on copy-first-input, which needs one input and one linear output; this model has ${plural(arch.inputSize, 'input')} and ${readout}`;
}
