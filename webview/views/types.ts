/** What every view gets from its page (panel or standalone report) and what it offers back. */
import type { Palette } from '../colors';
import type { Exporter } from '../export';
import type { HostToWebview, TrainingSnapshot, WebviewToHost } from '../protocol';
import type { ReportItem } from '../../core/report/payload';
import type { TrainEvent } from '../../core/train/types';

export interface ViewHost {
  palette(): Palette;
  exporter(): Exporter;
  post(m: WebviewToHost): void;
  /** False in the standalone report: there is no host to run commands. */
  readonly interactive: boolean;
  /** UI state that survives a webview reload (selected layer, neuron, …). */
  getState<T>(key: string): T | undefined;
  setState(key: string, value: unknown): void;
  /** Reports a finished render; the page shows it in #status ("rendered view=… key=value …"). */
  rendered(view: string, info: Record<string, string | number>): void;
}

export type InspectorMessage = Extract<HostToWebview, { type: 'inspector' }>;

export interface View {
  readonly el: HTMLElement;
  setReports?(items: ReportItem[]): void;
  setTraining?(s: TrainingSnapshot): void;
  trainingEvent?(runId: string, e: TrainEvent): void;
  setInspector?(m: InspectorMessage): void;
  /** Redraw with the current palette (theme changed). */
  retheme(): void;
  dispose(): void;
}
