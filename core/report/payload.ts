/** The JSON embedded in a standalone HTML report (read by webview/report-main.ts). Pure types and helpers. */
import type { DiagnosticReport } from '../diagnostics/types';

export interface ReportItem {
  label: string;
  report: DiagnosticReport;
}

export interface ReportPayload {
  title: string;
  items: ReportItem[];
}

/** A short label for a report: its model name, or its cells and sizes (e.g. "brc 2×32"). */
export function reportLabel(r: DiagnosticReport, index = 0): string {
  if (r.model.name) return r.model.name;
  const layers = r.model.architecture?.layers ?? [];
  if (layers.length === 0) return `report ${index + 1}`;
  const cells = [...new Set(layers.map((l) => l.cell))].join('+');
  const units = [...new Set(layers.map((l) => l.units))].join('/');
  return `${cells} ${layers.length}×${units}`;
}
