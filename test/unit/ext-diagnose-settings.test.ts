import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnoseSettings } from '../../extension/diagnose-settings';

const get = (o: Record<string, unknown>) => (k: string) => o[k];

test('the diagnosis settings become the worker options in one place; invalid values fall back to the defaults', () => {
  assert.deepEqual(
    diagnoseSettings(
      get({
        'diagnose.fixedPointInput': [0, -1],
        'diagnose.memoryThreshold': 0.2,
        'diagnose.memoryMinSteps': 7,
        'diagnostics.retentionBatch': 300.7,
        'diagnostics.probeTrain': 4,
        'diagnostics.jacobianSequences': 32,
        'diagnostics.jacobianProbes': 16,
        'diagnose.memoryBatch': 100.5,
        'diagnostics.batch': 48,
        'diagnostics.batchSample': 8,
      }),
    ),
    {
      fixedPoints: { input: [0, -1], starts: undefined, steps: undefined },
      memory: { threshold: 0.2, minSteps: 7, batch: 100 },
      batch: 48,
      batchSample: 8,
      retention: { batch: 300, probeTrain: 4 },
      jacobianSequences: 32,
      jacobianProbes: 16,
    },
  );
  const bad = diagnoseSettings(
    get({
      'diagnose.memoryThreshold': 1,
      'diagnose.memoryMinSteps': 0.5,
      'diagnostics.retentionBatch': 7,
      'diagnostics.probeTrain': NaN,
      'diagnostics.jacobianSequences': 0,
      'diagnostics.jacobianProbes': '8',
      'diagnose.memoryBatch': 3,
      'diagnostics.batch': 0,
      'diagnostics.batchSample': 1.5,
    }),
  );
  assert.deepEqual(bad, {
    fixedPoints: { input: undefined, starts: undefined, steps: undefined },
    memory: { threshold: undefined, minSteps: undefined, batch: undefined },
    batch: undefined,
    batchSample: undefined,
    retention: { batch: undefined, probeTrain: undefined },
    jacobianSequences: undefined,
    jacobianProbes: undefined,
  });
});
