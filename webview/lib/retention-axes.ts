/**
 * What the retention charts plot on their axes, shared by the panel, its CSV export and the HTML report
 * (which renders the same panel).
 */
import type { RetentionReport } from '../../core/diagnostics/types';

/** The x of probe point i: the time step probe.times[i] (reports without times had one probe per step). */
export function probeTimeSteps(probe: RetentionReport['probe']): number[] {
  const n = probe.layers[0]?.r2.length ?? 0;
  return Array.from({ length: n }, (_, i) => probe.times?.[i] ?? i);
}

export const RETENTION_AXES = {
  mseX: 'delay (steps from x₁ to the readout)',
  mseY: 'MSE of recalling x₁ (1 = chance)',
  probeX: 'time step t (state after t + 1 inputs)',
  probeY: 'held-out R² for x₁',
} as const;
