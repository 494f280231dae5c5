/**
 * Export PNG / CSV for every panel. In VS Code the data goes to the host (which shows a save dialog);
 * in the standalone report it is downloaded through an <a download> link to a blob URL.
 */
import type { WebviewToHost } from './protocol';
import { safeFilename } from './lib/csv';
import { button, el } from './dom';

export interface Exporter {
  png(filename: string, canvas: HTMLCanvasElement): void;
  csv(filename: string, csv: string): void;
}

export function hostExporter(post: (m: WebviewToHost) => void): Exporter {
  return {
    png: (filename, canvas) => post({ type: 'exportPng', filename, dataUrl: canvas.toDataURL('image/png') }),
    csv: (filename, csv) => post({ type: 'exportCsv', filename, csv }),
  };
}

export function downloadExporter(): Exporter {
  const download = (blob: Blob, filename: string) => {
    const url = URL.createObjectURL(blob);
    const a = el('a', { attrs: { href: url, download: filename } });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  return {
    png: (filename, canvas) => canvas.toBlob((b) => b && download(b, filename), 'image/png'),
    csv: (filename, csv) => download(new Blob([csv], { type: 'text/csv' }), filename),
  };
}

/**
 * Stacks canvases vertically on an opaque background; an inner array is one stack of layers drawn on top
 * of each other (a heatmap and its overlay).
 */
export function composeCanvases(items: (HTMLCanvasElement | HTMLCanvasElement[])[], background: string, gap = 8): HTMLCanvasElement {
  const stacks = items.map((i) => (Array.isArray(i) ? i : [i])).filter((s) => s.length > 0 && s[0].width > 0 && s[0].height > 0);
  const width = Math.max(1, ...stacks.map((s) => s[0].width));
  const height = Math.max(1, stacks.reduce((h, s) => h + s[0].height, 0) + gap * Math.max(0, stacks.length - 1));
  const out = el('canvas');
  out.width = width;
  out.height = height;
  const ctx = out.getContext('2d');
  if (!ctx) return out;
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, width, height);
  let y = 0;
  for (const s of stacks) {
    for (const c of s) ctx.drawImage(c, 0, y, s[0].width, s[0].height);
    y += s[0].height + gap;
  }
  return out;
}

/** "Export PNG" and "Export CSV" buttons for a view's toolbar. */
export function exportButtons(
  exporter: () => Exporter,
  name: () => string,
  canvases: () => (HTMLCanvasElement | HTMLCanvasElement[])[],
  csv: () => string,
  background: () => string,
  /** Further CSV tables of the same view (saved as "<name> <suffix>.csv"). */
  moreCsv: readonly { label: string; title: string; suffix: string; csv: () => string }[] = [],
): HTMLElement {
  return el('span', { class: 'export-buttons' }, [
    button('Export PNG', () => exporter().png(safeFilename(name(), 'png'), composeCanvases(canvases(), background())), {
      secondary: true,
      title: 'Save this view as a PNG image',
    }),
    button('Export CSV', () => exporter().csv(safeFilename(name(), 'csv'), csv()), {
      secondary: true,
      title: 'Save the data of this view as CSV',
    }),
    ...moreCsv.map((m) =>
      button(m.label, () => exporter().csv(safeFilename(`${name()} ${m.suffix}`, 'csv'), m.csv()), { secondary: true, title: m.title }),
    ),
  ]);
}
