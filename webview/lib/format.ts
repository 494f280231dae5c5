/** Number and duration formatting for labels and tooltips. Pure. */

export { fmt } from '../../shared/numbers';
export { cellLabel } from '../../shared/labels';

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

/** "16 linear", "10 softmax (every step)", or, when the file has none, that an identity readout is assumed. */
export function readoutLabel(r: { units: number; activation: string; perStep: boolean; assumed?: boolean }): string {
  if (r.assumed) return `none in the file (assumed: the top layer's state${r.perStep ? ' at every step' : ''}, ${r.units} values)`;
  return `${r.units} ${r.activation}${r.perStep ? ' (every step)' : ''}`;
}
