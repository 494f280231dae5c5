/**
 * Canvas heatmap (rows × columns, e.g. neuron × time) drawn through ImageData in one pass, with an
 * overlay canvas for marks and the selection, a hover tooltip, and keyboard navigation
 * (arrows move the selection, Shift for ×10, Home/End, Enter/Space selects).
 */
import { paintHeatmap, cellAtPixel, pixelSpanOfCell, axisTicks } from './lib/heatmap-core';
import type { ColorScale, RGB } from './lib/colormap';
import { el } from './dom';

export interface HeatmapData {
  values: Float32Array;
  rows: number;
  cols: number;
  scale: ColorScale;
  background: RGB;
  /** Separator rows (between layers) that can't be hovered or selected. */
  isGap?: (row: number) => boolean;
  /** Axis titles and ticks; without them the heatmap has no axes. */
  axes?: HeatmapAxes;
}

/** Columns are labelled by index (0-based, like the tooltips); rows by their index within each segment. */
export interface HeatmapAxes {
  x: string;
  y: string;
  /** Row ranges numbered from 0 each (e.g. the neurons of each layer); default: all rows. */
  segments?: { start: number; count: number }[];
}

/** Room per tick label, in CSS pixels. */
const X_TICK_PX = 56;
const Y_TICK_PX = 16;

export interface Cell {
  row: number;
  col: number;
}

export interface HeatmapOptions {
  label: string;
  /** Tooltip / live-region text of a cell. */
  describe: (c: Cell) => string;
  onHover?: (c: Cell | null) => void;
  onSelect?: (c: Cell) => void;
  /** Largest CSS height in pixels; rows are aggregated beyond it. */
  maxHeight?: number;
  /** Largest CSS height of one row. */
  maxRowHeight?: number;
  colors: () => { mark: string; select: string; hover: string };
}

export interface PaintInfo {
  cells: number;
  painted: number;
  ms: number;
  width: number;
  height: number;
}

export class Heatmap {
  readonly el: HTMLElement;
  /** The painted area (both canvases and the tooltip); `el` adds the axes around it. */
  private readonly plot: HTMLElement;
  private readonly xTicks = el('div', { class: 'heatmap-xticks', attrs: { 'aria-hidden': 'true', 'data-role': 'heatmap-xticks' } });
  private readonly yTicks = el('div', { class: 'heatmap-yticks', attrs: { 'aria-hidden': 'true', 'data-role': 'heatmap-yticks' } });
  private readonly xTitle = el('div', { class: 'heatmap-xtitle', attrs: { 'aria-hidden': 'true' } });
  private readonly yTitle = el('div', { class: 'heatmap-ytitle', attrs: { 'aria-hidden': 'true' } });
  readonly base: HTMLCanvasElement;
  readonly overlay: HTMLCanvasElement;
  private readonly tip: HTMLElement;
  private readonly live: HTMLElement;
  private data: HeatmapData | null = null;
  private marks: Cell[] = [];
  /** Rows outlined over a column span (memory carriers over their window). */
  private rowMarks: { row: number; from: number; to: number }[] = [];
  private selected: Cell | null = null;
  private hovered: Cell | null = null;
  private lastWidth = 0;
  private frame = 0;
  private readonly resizeObs: ResizeObserver;
  lastPaint: PaintInfo = { cells: 0, painted: 0, ms: 0, width: 0, height: 0 };
  onPaint: ((p: PaintInfo) => void) | null = null;

  constructor(private readonly opts: HeatmapOptions) {
    this.base = el('canvas', { class: 'heatmap-base', attrs: { 'data-role': 'heatmap-base' } });
    this.overlay = el('canvas', {
      class: 'heatmap-overlay',
      attrs: {
        tabindex: '0',
        role: 'img',
        'aria-label': `${opts.label}. Use the arrow keys to move the selection, Enter to select.`,
        'data-role': 'heatmap-overlay',
      },
    });
    this.tip = el('div', { class: 'tooltip hidden', attrs: { role: 'tooltip' } });
    this.live = el('div', { class: 'sr-only', attrs: { 'aria-live': 'polite' } });
    this.plot = el('div', { class: 'heatmap' }, [this.base, this.overlay, this.tip, this.live]);
    this.el = el('div', { class: 'heatmap-frame' }, [this.yTitle, this.yTicks, this.plot, this.xTicks, this.xTitle]);
    this.overlay.addEventListener('mousemove', (e) => this.mouse(e, false));
    this.overlay.addEventListener('click', (e) => this.mouse(e, true));
    this.overlay.addEventListener('mouseleave', () => this.setHover(null));
    this.overlay.addEventListener('keydown', (e) => this.key(e));
    this.overlay.addEventListener('blur', () => this.hideTip());
    this.resizeObs = new ResizeObserver(() => {
      if (this.plot.clientWidth !== this.lastWidth) this.schedule();
    });
    this.resizeObs.observe(this.plot);
  }

  setData(d: HeatmapData | null): void {
    this.data = d;
    if (this.selected && d && (this.selected.row >= d.rows || this.selected.col >= d.cols)) this.selected = null;
    this.paintNow();
  }

  /** Outlines each row over columns [from, to] (clamped to the data); the rows are listed in data-marked-rows. */
  setRowMarks(spans: { row: number; from: number; to: number }[]): void {
    this.rowMarks = spans;
    this.overlay.dataset.markedRows = spans.map((s) => s.row).join(',');
    this.drawOverlay();
  }

  setMarks(marks: Cell[]): void {
    this.marks = marks;
    this.drawOverlay();
  }

  getSelection(): Cell | null {
    return this.selected;
  }

  setSelection(c: Cell | null): void {
    this.selected = c;
    this.overlay.dataset.selectedRow = c ? String(c.row) : '';
    this.overlay.dataset.selectedCol = c ? String(c.col) : '';
    this.drawOverlay();
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    this.resizeObs.disconnect();
  }

  private schedule(): void {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => this.paintNow());
  }

  /** Paints synchronously; returns what was painted (also kept in lastPaint). */
  paintNow(): PaintInfo {
    const t0 = performance.now();
    const d = this.data;
    const dpr = window.devicePixelRatio || 1;
    this.renderAxes(d);
    const cssW = Math.max(50, this.plot.clientWidth || 600);
    this.lastWidth = this.plot.clientWidth;
    if (!d || d.rows === 0 || d.cols === 0) {
      this.base.width = this.overlay.width = 0;
      this.lastPaint = { cells: 0, painted: 0, ms: 0, width: 0, height: 0 };
      return this.lastPaint;
    }
    const maxH = (this.opts.maxHeight ?? 480) * dpr;
    const rowPx = Math.max(1, Math.min(Math.floor(maxH / d.rows), Math.round((this.opts.maxRowHeight ?? 8) * dpr)));
    const W = Math.round(cssW * dpr);
    const H = Math.max(1, Math.min(Math.round(maxH), d.rows * rowPx));
    for (const c of [this.base, this.overlay]) {
      c.width = W;
      c.height = H;
      c.style.height = `${H / dpr}px`;
    }
    const ctx = this.base.getContext('2d');
    if (!ctx) return this.lastPaint;
    const img = ctx.createImageData(W, H);
    const painted = paintHeatmap(d.values, d.rows, d.cols, d.scale, img.data, W, H, d.background);
    ctx.putImageData(img, 0, 0);
    this.drawOverlay();
    this.lastPaint = { cells: d.rows * d.cols, painted, ms: performance.now() - t0, width: W, height: H };
    this.base.dataset.painted = String(painted);
    this.renderTicks(d, H / dpr);
    this.onPaint?.(this.lastPaint);
    return this.lastPaint;
  }

  /** Shows the axis titles (or hides the axes when the data has none). */
  private renderAxes(d: HeatmapData | null): void {
    const a = d?.axes;
    for (const e of [this.xTicks, this.yTicks, this.xTitle, this.yTitle]) e.hidden = !a;
    this.el.classList.toggle('with-axes', !!a);
    this.xTitle.textContent = a?.x ?? '';
    this.yTitle.textContent = a?.y ?? '';
    if (!a) {
      this.xTicks.replaceChildren();
      this.yTicks.replaceChildren();
    }
  }

  /** Tick labels at cell centres, as many as fit: columns along the bottom, rows per segment on the left. */
  private renderTicks(d: HeatmapData, cssH: number): void {
    const a = d.axes;
    if (!a) return;
    const tick = (cls: string, text: string, pos: string, prop: 'left' | 'top') => {
      const t = el('span', { class: cls, text });
      t.style[prop] = pos;
      return t;
    };
    const cols = axisTicks(d.cols, this.plot.clientWidth / X_TICK_PX);
    this.xTicks.replaceChildren(...cols.map((c) => tick('heatmap-tick', String(c), `${((c + 0.5) / d.cols) * 100}%`, 'left')));
    const rowPx = cssH / d.rows;
    const rows: HTMLElement[] = [];
    for (const seg of a.segments ?? [{ start: 0, count: d.rows }]) {
      for (const i of axisTicks(seg.count, (seg.count * rowPx) / Y_TICK_PX))
        rows.push(tick('heatmap-tick', String(i), `${((seg.start + i + 0.5) / d.rows) * 100}%`, 'top'));
    }
    this.yTicks.replaceChildren(...rows);
    this.xTicks.dataset.ticks = cols.join(' ');
    this.yTicks.dataset.ticks = rows.map((r) => r.textContent).join(' ');
  }

  private cellRect(c: Cell): { x0: number; x1: number; y0: number; y1: number } {
    const d = this.data!;
    const [x0, x1] = pixelSpanOfCell(c.col, d.cols, this.overlay.width);
    const [y0, y1] = pixelSpanOfCell(c.row, d.rows, this.overlay.height);
    return { x0, x1, y0, y1 };
  }

  private drawOverlay(): void {
    const d = this.data;
    const ctx = this.overlay.getContext('2d');
    if (!ctx || !d) return;
    const W = this.overlay.width;
    const H = this.overlay.height;
    ctx.clearRect(0, 0, W, H);
    const col = this.opts.colors();
    ctx.fillStyle = col.mark;
    for (const m of this.marks) {
      const r = this.cellRect(m);
      const w = Math.max(2, r.x1 - r.x0);
      const h = Math.max(2, r.y1 - r.y0);
      ctx.fillRect(r.x0, r.y0 + Math.floor(h / 4), w, Math.max(1, Math.ceil(h / 2)));
    }
    const dpr = window.devicePixelRatio || 1;
    ctx.lineWidth = Math.max(1, Math.round(dpr));
    if (this.rowMarks.length) {
      ctx.strokeStyle = col.hover;
      for (const s of this.rowMarks) {
        if (s.row < 0 || s.row >= d.rows) continue;
        const a = this.cellRect({ row: s.row, col: Math.max(0, Math.min(d.cols - 1, s.from)) });
        const b = this.cellRect({ row: s.row, col: Math.max(0, Math.min(d.cols - 1, s.to)) });
        ctx.strokeRect(a.x0 + 0.5, a.y0 - 0.5, Math.max(1, b.x1 - a.x0 - 1), a.y1 - a.y0 + 1);
        // A tick in the left margin finds the row when the outline is thin.
        ctx.fillStyle = col.hover;
        ctx.fillRect(0, a.y0, Math.max(3, 3 * dpr), Math.max(1, a.y1 - a.y0));
      }
    }
    if (this.selected) {
      const r = this.cellRect(this.selected);
      ctx.strokeStyle = col.select;
      ctx.strokeRect(0.5, r.y0 - 0.5, W - 1, r.y1 - r.y0 + 1);
      ctx.beginPath();
      ctx.moveTo((r.x0 + r.x1) / 2, 0);
      ctx.lineTo((r.x0 + r.x1) / 2, H);
      ctx.stroke();
    }
    if (this.hovered) {
      const r = this.cellRect(this.hovered);
      ctx.strokeStyle = col.hover;
      ctx.strokeRect(r.x0 - 1.5, r.y0 - 1.5, r.x1 - r.x0 + 3, r.y1 - r.y0 + 3);
    }
  }

  private cellAt(e: MouseEvent): Cell | null {
    const d = this.data;
    if (!d || this.overlay.clientWidth === 0) return null;
    const x = (e.offsetX * this.overlay.width) / this.overlay.clientWidth;
    const y = (e.offsetY * this.overlay.height) / this.overlay.clientHeight;
    const c = { row: cellAtPixel(y, d.rows, this.overlay.height), col: cellAtPixel(x, d.cols, this.overlay.width) };
    return d.isGap?.(c.row) ? null : c;
  }

  private mouse(e: MouseEvent, click: boolean): void {
    const c = this.cellAt(e);
    if (click && c) {
      this.setSelection(c);
      this.opts.onSelect?.(c);
    }
    this.setHover(c);
  }

  private setHover(c: Cell | null): void {
    const same = c && this.hovered && c.row === this.hovered.row && c.col === this.hovered.col;
    this.hovered = c;
    if (!same) this.drawOverlay();
    if (c) this.showTip(c);
    else this.hideTip();
    if (!same) this.opts.onHover?.(c);
  }

  private showTip(c: Cell): void {
    const r = this.cellRect(c);
    const sx = this.overlay.clientWidth / this.overlay.width;
    const sy = this.overlay.clientHeight / this.overlay.height;
    this.tip.textContent = this.opts.describe(c);
    this.tip.classList.remove('hidden');
    const left = r.x1 * sx + 12;
    const flip = left + this.tip.offsetWidth > this.plot.clientWidth;
    this.tip.style.left = `${Math.max(0, flip ? r.x0 * sx - this.tip.offsetWidth - 12 : left)}px`;
    this.tip.style.top = `${Math.max(0, r.y0 * sy - 4)}px`;
  }

  private hideTip(): void {
    this.tip.classList.add('hidden');
  }

  private key(e: KeyboardEvent): void {
    const d = this.data;
    if (!d) return;
    const step = e.shiftKey ? 10 : 1;
    const nav = ['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'PageUp', 'PageDown', 'Home', 'End', 'Enter', ' '];
    let c = this.selected ?? { row: this.nextRow(0, 0), col: 0 };
    // The first navigation key selects the first cell rather than moving past it.
    const first = !this.selected && nav.includes(e.key);
    switch (first ? 'Enter' : e.key) {
      case 'ArrowUp':
        c = { row: this.nextRow(c.row, -step), col: c.col };
        break;
      case 'ArrowDown':
        c = { row: this.nextRow(c.row, step), col: c.col };
        break;
      case 'ArrowLeft':
        c = { row: c.row, col: Math.max(0, c.col - step) };
        break;
      case 'ArrowRight':
        c = { row: c.row, col: Math.min(d.cols - 1, c.col + step) };
        break;
      case 'PageUp':
        c = { row: this.nextRow(c.row, -10), col: c.col };
        break;
      case 'PageDown':
        c = { row: this.nextRow(c.row, 10), col: c.col };
        break;
      case 'Home':
        c = { row: c.row, col: 0 };
        break;
      case 'End':
        c = { row: c.row, col: d.cols - 1 };
        break;
      case 'Enter':
      case ' ':
        break;
      case 'Escape':
        this.hideTip();
        return;
      default:
        return;
    }
    e.preventDefault();
    this.setSelection(c);
    this.opts.onSelect?.(c);
    this.hovered = null;
    this.drawOverlay();
    this.showTip(c);
    this.live.textContent = this.opts.describe(c);
  }

  /** Moves `delta` rows from `row`, skipping separator rows and staying in range. */
  private nextRow(row: number, delta: number): number {
    const d = this.data!;
    const dir = delta < 0 ? -1 : 1;
    let r = Math.max(0, Math.min(d.rows - 1, row + delta));
    while (d.isGap?.(r)) {
      const n = r + dir;
      if (n < 0 || n >= d.rows) {
        // Nothing that way: go back to the nearest real row.
        r = row < 0 ? 0 : row;
        while (d.isGap?.(r) && r < d.rows - 1) r++;
        break;
      }
      r = n;
    }
    return r;
  }
}
