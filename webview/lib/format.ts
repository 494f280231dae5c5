/** Number and duration formatting for labels and tooltips. Pure. */

export function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(Math.max(0, digits - 1));
  return String(Number(v.toPrecision(digits)));
}

export function fmtPercent(v: number | null | undefined, digits = 0): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return `${(v * 100).toFixed(digits)}%`;
}

export function fmtInt(v: number): string {
  return Math.round(v).toLocaleString('en-US');
}

export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

const CELL_LABELS: Record<string, string> = { brc: 'BRC', nbrc: 'nBRC', gru: 'GRU', lstm: 'LSTM', simple_rnn: 'SimpleRNN' };

/** How a cell kind is written for people ("nBRC", not "NBRC"); a custom cell by its name when known. */
export function cellLabel(kind: string, customName?: string): string {
  if (kind === 'custom') return customName ? `custom ${customName}` : 'custom';
  return CELL_LABELS[kind] ?? kind;
}

/** "16 linear", "10 softmax (every step)", or, when the file has none, that an identity readout is assumed. */
export function readoutLabel(r: { units: number; activation: string; perStep: boolean; assumed?: boolean }): string {
  if (r.assumed) return `none in the file (assumed: the top layer's state${r.perStep ? ' at every step' : ''}, ${r.units} values)`;
  return `${r.units} ${r.activation}${r.perStep ? ' (every step)' : ''}`;
}
