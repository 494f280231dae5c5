/** A model with a NaN weight is diagnosed (with a warning), and no sentence draws a verdict from NaN. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose } from '../../core/diagnostics/diagnose';
import { largestSingularValue } from '../../core/diagnostics/matrix';
import { ridgeProbePredict } from '../../core/diagnostics/decoding-probe';
import { createModel } from '../../core/model/network';
import { Rng } from '../../core/util/rng';

test('a NaN weight: every section completes, the first sentence warns, none concludes from NaN', () => {
  const model = createModel(
    {
      inputSize: 1,
      layers: [{ cell: 'gru', units: 4 }],
      readout: { units: 1, activation: 'linear', perStep: false },
      task: { name: 'copy', T: 12 },
    },
    new Rng(1),
  );
  model.params.get('layers.0.kernel')!.data[0] = NaN;
  const r = diagnose(model, { batch: 16, seed: 2, retention: { batch: 16, probeTrain: 16 } });
  assert.equal(r.diagnosis[0].severity, 'warning');
  assert.match(r.diagnosis[0].text, /non-finite weights .*layers\.0\.kernel/);
  for (const s of r.diagnosis.slice(1)) {
    assert.doesNotMatch(
      s.text,
      /no longer reaches|amplifies perturbations|recalled (accurately )?up to|hold[s]? x|latched memory|several attractors/,
      s.text,
    );
  }
});

test('the numerical kernels answer NaN for NaN input instead of a number or an exception', () => {
  const X = Float64Array.from([1, NaN, 2, 3, 4, 5]);
  const { pred, lambda } = ridgeProbePredict(X, [1, 2, 3], 3, 2, 2);
  assert.ok(Number.isNaN(pred[0]) && Number.isNaN(lambda));
  assert.ok(Number.isNaN(largestSingularValue([NaN, 1, 2, 3], 2, 2)));
  assert.equal(largestSingularValue([0, 0, 0, 0], 2, 2), 0);
});
