/** The HTML report of the CLI, reused by "Export HTML Report" (one renderer for both: core/report/html.ts). */
import type { DiagnosticReport } from '../core/diagnostics/types';
import { renderHtmlReport } from '../core/report/html';

export function renderReportHtml(report: DiagnosticReport, opts: { assetsDir?: string; label?: string } = {}): string {
  // Titled with the model's (or run's) name, not the report's generic one.
  return renderHtmlReport(report, {
    assetsDir: opts.assetsDir,
    labels: opts.label ? [opts.label] : undefined,
    title: opts.label ? `RNN Memory Lens: ${opts.label}` : undefined,
  });
}
