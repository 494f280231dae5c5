/** Names and bounds shared by the Restricted Mode tier's driver and its in-host suite (no vscode import). */

/** Growth of the extension host's resident memory allowed while all hostile files are opened. */
export const HOST_MEMORY_BOUND_MB = 1500;

/** Answers for the foreign files' open questions, so that only the hostile part can fail. */
export const ANSWERS = { 'readout.activation': 'linear', 'readout.perStep': 'last', 'encoder.nonlinearity': 'relu' };

export function hostileCheckName(h: { kind: string; error: unknown }): string {
  return h.error
    ? `a hostile file (${h.kind}) gives one clear error notification and runs or writes nothing`
    : `a hostile file (${h.kind}) opens without running or writing anything`;
}

export const MONITORED_CHECK = 'a monitored run’s snapshots are listed; Open Diagnostics on one runs no Python and diagnoses nothing';
