/**
 * One self-contained HTML file for a diagnostic report (or several, overlaid): the webview report bundle
 * and its CSS inlined, the report JSON embedded as data, a strict CSP with a per-file nonce, and default
 * theme colours for light and dark since --vscode-* variables don't exist outside VS Code.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DiagnosticReport } from '../diagnostics/types';
import { reportLabel, type ReportPayload } from './payload';

export interface HtmlReportOptions {
  title?: string;
  /** Labels for the reports (default: model name or cells and sizes). */
  labels?: string[];
  /** Folder holding report.js, panel.css and report-theme.css (default: found next to the bundle). */
  assetsDir?: string;
}

const ASSETS = ['report.js', 'panel.css', 'report-theme.css'];

/** dist/webview when this code is bundled in dist/, or ../../dist/webview from core/report/ under tsx. */
export function findWebviewAssets(): string {
  const candidates = [join(__dirname, 'webview'), join(__dirname, '..', '..', 'dist', 'webview'), join(__dirname, '..', 'dist', 'webview')];
  const dir = candidates.find((d) => ASSETS.every((f) => existsSync(join(d, f))));
  if (!dir) throw new Error(`HTML report: webview bundles not found (looked in ${candidates.join(', ')}); run "npm run build" first`);
  return dir;
}

/** JSON that can't end its <script> element or open a comment: every "<" becomes \u003c. */
export function embedJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Inline code must not contain its own end tag; "<\/" is equivalent inside JS strings, regexes and CSS. */
function inlineSafe(code: string, tag: 'script' | 'style'): string {
  return code.replace(new RegExp(`</(${tag})`, 'gi'), '<\\/$1');
}

export function renderHtmlReport(report: DiagnosticReport | DiagnosticReport[], opts: HtmlReportOptions = {}): string {
  const reports = Array.isArray(report) ? report : [report];
  if (reports.length === 0) throw new Error('HTML report: no reports given');
  const dir = opts.assetsDir ?? findWebviewAssets();
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  const title = opts.title ?? (reports.length === 1 ? `RNN Memory Lens: ${reportLabel(reports[0])}` : 'RNN Memory Lens: comparison');
  const payload: ReportPayload = { title, items: reports.map((r, i) => ({ label: opts.labels?.[i] ?? reportLabel(r, i), report: r })) };
  const nonce = randomBytes(16).toString('base64');
  const csp = `default-src 'none'; img-src data: blob:; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; base-uri 'none'; form-action 'none'`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="RNN Memory Lens">
<title>${escapeHtml(title)}</title>
<style nonce="${nonce}">${inlineSafe(read('report-theme.css'), 'style')}</style>
<style nonce="${nonce}">${inlineSafe(read('panel.css'), 'style')}</style>
</head>
<body class="standalone-report">
<h1>${escapeHtml(title)}</h1>
<script type="application/json" id="report-data">${embedJson(payload)}</script>
<script nonce="${nonce}">${inlineSafe(read('report.js'), 'script')}</script>
</body>
</html>
`;
}
