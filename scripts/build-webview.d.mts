/** Builds dist/webview-style bundles (panel.js, report.js, panel.css, report-theme.css) into outDir. */
export function buildWebview(root: string, outDir: string): Promise<void>;
