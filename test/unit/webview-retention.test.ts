import { test } from 'node:test';
import assert from 'node:assert/strict';
import { probeSchedule } from '../../core/diagnostics/retention';
import type { RetentionReport } from '../../core/diagnostics/types';
import { probeTimeSteps, RETENTION_AXES } from '../../webview/lib/retention-axes';

test('the probe chart plots R² against the time step probed, not the probe index, and says so', () => {
  const times = probeSchedule(600, 100);
  const probe: RetentionReport['probe'] = {
    lambda: 0.1,
    trainSequences: 4,
    testSequences: 4,
    times,
    layers: [{ layer: 0, r2: times.map(() => 0.5) }],
  };
  const xs = probeTimeSteps(probe);
  assert.equal(xs.length, 100);
  assert.deepEqual(xs, times);
  assert.equal(xs[99], 599, 'the last probe is at the last step, not at index 99');
  // Older reports without times had one probe per step.
  assert.deepEqual(probeTimeSteps({ ...probe, times: undefined, layers: [{ layer: 0, r2: [1, 1, 1] }] }), [0, 1, 2]);
  assert.match(RETENTION_AXES.probeX, /time step/);
  assert.match(RETENTION_AXES.mseX, /delay/);
});
