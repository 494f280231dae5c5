/**
 * Display names shared by the host and the webviews: cell labels, 1-based layer numbers, run labels and the
 * one vocabulary of run states. Pure (no vscode, DOM or Node).
 */
import type { TrainConfig } from '../core/train/types';

export const CELL_LABEL: Readonly<Record<string, string>> = { brc: 'BRC', nbrc: 'nBRC', gru: 'GRU', lstm: 'LSTM', simple_rnn: 'SimpleRNN' };

/** "BRC", "nBRC", "GRU", "LSTM"; a custom cell by its own name (else the kind as given). */
export function cellLabel(cell: string, customName?: string): string {
  if (cell === 'custom' && customName) return customName;
  return CELL_LABEL[cell] ?? cell;
}

/** Layers are numbered from 1 wherever a user reads them: one helper for sentences, panels and the host. */
export { layerLabel } from '../core/diagnostics/labels';

/** "copy · BRC T=50 · 1×64"; a custom-cell run is labelled with the cell's name. */
export function runLabel(c: Pick<TrainConfig, 'task' | 'cell' | 'T' | 'layers' | 'units' | 'custom'>): string {
  const t = c.task === 'smnist' ? '' : ` T=${c.T}`;
  return `${c.task} · ${cellLabel(c.cell, c.custom?.name)}${t} · ${c.layers}×${c.units}`;
}

/**
 * Every state a run can be shown in, whatever its source (a live snapshot, run.json on disk, the tree):
 * a run the user stopped is "stopped" everywhere (the worker and run.json say "cancelled").
 */
export type RunStateWord = 'running' | 'completed' | 'stopped' | 'failed' | 'interrupted' | 'unknown';

export function runStateWord(state: string): RunStateWord {
  switch (state) {
    case 'running':
    case 'completed':
    case 'failed':
    case 'interrupted':
    case 'stopped':
      return state;
    case 'cancelled':
      return 'stopped';
    default:
      return 'unknown';
  }
}

/** The state word with a capital, for headings ("Stopped"). */
export function runStateTitle(state: string): string {
  const w = runStateWord(state);
  return w[0].toUpperCase() + w.slice(1);
}
