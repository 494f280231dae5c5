/**
 * The palette, read from VS Code's theme CSS variables so charts and heatmaps follow light, dark and
 * high-contrast themes. Line colours are pushed to at least 3:1 contrast against the background.
 */
import { ensureContrast, mix, parseColor, type RGB } from './lib/colormap';

export interface Palette {
  fg: RGB;
  bg: RGB;
  muted: RGB;
  grid: RGB;
  focus: RGB;
  red: RGB;
  blue: RGB;
  green: RGB;
  yellow: RGB;
  orange: RGB;
  purple: RGB;
  /** Line colours for series (layers, runs), in order. */
  series: RGB[];
  /** Neutral centre of diverging heatmaps: distinct from the background, grey so hue carries the sign. */
  heatMid: RGB;
  kind: 'light' | 'dark' | 'high-contrast';
  fontFamily: string;
}

const DARK: Record<string, RGB> = {
  fg: [204, 204, 204],
  bg: [31, 31, 31],
  red: [241, 76, 76],
  blue: [55, 148, 255],
  green: [137, 209, 133],
  yellow: [204, 167, 0],
  orange: [209, 134, 22],
  purple: [177, 128, 215],
  focus: [0, 120, 212],
};
const LIGHT: Record<string, RGB> = {
  fg: [59, 59, 59],
  bg: [255, 255, 255],
  red: [229, 20, 0],
  blue: [26, 133, 255],
  green: [56, 138, 52],
  yellow: [191, 136, 3],
  orange: [209, 134, 22],
  purple: [101, 45, 144],
  focus: [0, 95, 184],
};

function themeKind(body: HTMLElement): Palette['kind'] {
  const cl = body.classList;
  if (cl.contains('vscode-high-contrast') || cl.contains('vscode-high-contrast-light')) return 'high-contrast';
  if (cl.contains('vscode-light')) return 'light';
  if (cl.contains('vscode-dark')) return 'dark';
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function readPalette(root: HTMLElement = document.body): Palette {
  const cs = getComputedStyle(root);
  const kind = themeKind(document.body);
  const fallback = kind === 'light' || document.body.classList.contains('vscode-high-contrast-light') ? LIGHT : DARK;
  const v = (name: string, key: string): RGB => parseColor(cs.getPropertyValue(name)) ?? fallback[key];
  const fg = v('--vscode-foreground', 'fg');
  const bg = v('--vscode-editor-background', 'bg');
  const line = (c: RGB) => ensureContrast(c, bg, fg, 3);
  const p = {
    fg,
    bg,
    muted: parseColor(cs.getPropertyValue('--vscode-descriptionForeground')) ?? mix(fg, bg, 0.35),
    grid: mix(fg, bg, kind === 'high-contrast' ? 0.5 : 0.85),
    focus: v('--vscode-focusBorder', 'focus'),
    red: line(v('--vscode-charts-red', 'red')),
    blue: line(v('--vscode-charts-blue', 'blue')),
    green: line(v('--vscode-charts-green', 'green')),
    yellow: line(v('--vscode-charts-yellow', 'yellow')),
    orange: line(v('--vscode-charts-orange', 'orange')),
    purple: line(v('--vscode-charts-purple', 'purple')),
  };
  const grey = (c: RGB): RGB => {
    const y = Math.round(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]);
    return [y, y, y];
  };
  return {
    ...p,
    series: [p.blue, p.orange, p.green, p.purple, p.red, p.yellow],
    heatMid: grey(mix(bg, fg, kind === 'high-contrast' ? 0.3 : 0.12)),
    kind,
    fontFamily: cs.getPropertyValue('--vscode-font-family').trim() || 'system-ui, sans-serif',
  };
}

/** Calls `cb` when the VS Code theme (body class) or the OS colour scheme changes. Returns a disposer. */
export function onThemeChange(cb: () => void): () => void {
  const obs = new MutationObserver(() => cb());
  obs.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind'] });
  // VS Code rewrites the --vscode-* variables on <html style> when the theme changes.
  obs.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
  const mq = matchMedia('(prefers-color-scheme: dark)');
  mq.addEventListener('change', cb);
  return () => {
    obs.disconnect();
    mq.removeEventListener('change', cb);
  };
}
