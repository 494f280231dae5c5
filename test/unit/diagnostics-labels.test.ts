/** Human-facing text numbers layers from 1 through one helper; exponents are superscripts, never "^". */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layerLabel, pow10, power } from '../../core/diagnostics/labels';
import { diagnose } from '../../core/diagnostics/diagnose';
import { makeModel } from '../helpers/diag-models';

test('layerLabel and power', () => {
  assert.equal(layerLabel(0), 'Layer 1');
  assert.equal(layerLabel(2, true), 'layer 3');
  assert.equal(pow10(-3), '10⁻³');
  assert.equal(pow10(6), '10⁶');
  assert.equal(power(2, 62), '2⁶²');
  assert.equal(power(10, Math.log10(79)), '10¹·⁹');
});

test('sentences number layers from 1: "Layer k" is the JSON layers[k − 1] it refers to; no "^" exponents', () => {
  const model = makeModel(
    [
      { cell: 'brc', units: 6 },
      { cell: 'gru', units: 5 },
      { cell: 'nbrc', units: 4 },
    ],
    { seed: 3, task: { name: 'copy', T: 30 } },
  );
  const r = diagnose(model, { task: 'copy', T: 30, batch: 16, seed: 2, memory: { batch: 32 }, retention: { batch: 16, probeTrain: 32 } });
  let checked = 0;
  for (const d of r.diagnosis) {
    assert.doesNotMatch(d.text, /\^|Layer 0\b|layer 0\b/, d.text);
    const m = /^Layer (\d+)\b/.exec(d.text);
    const ref = d.refs.map((p) => /layers\[(\d+)\]/.exec(p)).find((x) => x !== null);
    if (m && ref) {
      assert.equal(Number(m[1]), Number(ref[1]) + 1, `${d.text} ↔ ${d.refs.join(', ')}`);
      checked++;
    }
  }
  assert.ok(checked >= 3, `${checked} sentences checked`);
  // JSON stays 0-based.
  assert.deepEqual(
    r.bistability.layers.map((l) => l.layer),
    [0, 1, 2],
  );
});
