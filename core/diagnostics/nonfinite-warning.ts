/**
 * The diagnosis sentence for a model with NaN or ±Inf weights: diagnostics still run (so the panels and
 * reports show where the values spread), but the reader must know first why numbers are missing.
 */
import { describeFinding, findNonFinite } from '../model/finite-params';
import type { Model } from '../model/model';
import type { DiagnosisSentence } from './types';

export function nonFiniteWeightsSentence(model: Model): DiagnosisSentence[] {
  const found = findNonFinite(model.params);
  if (found.length === 0) return [];
  const more = found.length > 1 ? ` and ${found.length - 1} more tensor${found.length === 2 ? '' : 's'}` : '';
  return [
    {
      text: `The model has non-finite weights (${describeFinding(found[0])}${more}): every result they reach is NaN.`,
      severity: 'warning',
      refs: [],
    },
  ];
}
