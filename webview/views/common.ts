/** Pieces shared by the report views: their base class, run/layer selectors and palette shortcuts. */
import type { ReportItem } from '../../core/report/payload';
import type { Palette } from '../colors';
import { select, type Option } from '../dom';
import { toCss } from '../lib/colormap';
import { layerLabel } from '../../core/diagnostics/labels';

/** A section that shows reports: keeps them, hides itself without any, redraws on new data or a theme change. */
export abstract class ReportSectionView {
  abstract readonly el: HTMLElement;
  protected items: ReportItem[] = [];

  setReports(items: ReportItem[]): void {
    this.items = items;
    this.el.hidden = items.length === 0;
    this.render();
  }

  retheme(): void {
    this.render();
  }

  protected abstract render(): void;
}

export function runSelect(items: ReportItem[], index: number, onChange: (i: number) => void): HTMLElement | null {
  if (items.length < 2) return null;
  const opts: Option[] = items.map((it, i) => ({ value: String(i), label: it.label }));
  return select('Run', opts, String(index), (v) => onChange(Number(v)));
}

export function layerOptions(layers: { layer: number }[], withAll: boolean): Option[] {
  const opts = layers.map((l, i) => ({ value: String(i), label: `${layerLabel(l.layer)}` }));
  return withAll && layers.length > 1 ? [{ value: 'all', label: 'All layers' }, ...opts] : opts;
}

/** Line dash per layer when runs are told apart by colour (retention, gradient-flow overlays). */
export const LAYER_DASHES: number[][] = [[], [6, 3], [2, 3], [8, 3, 2, 3]];

export function seriesColor(p: Palette, i: number): string {
  return toCss(p.series[i % p.series.length]);
}

export function clampIndex(i: number | undefined, n: number): number {
  return i !== undefined && Number.isInteger(i) && i >= 0 && i < n ? i : 0;
}

/**
 * Replaces the children of `parent` with `nodes` (nulls skipped). Keyboard focus stays on the control in
 * the same position, so changing a select with the keyboard doesn't drop focus to the page.
 */
export function fill(parent: HTMLElement, nodes: (Node | null)[]): void {
  const active = document.activeElement;
  const kids = Array.from(parent.children);
  const idx = active ? kids.findIndex((k) => k === active || k.contains(active)) : -1;
  const inner = idx >= 0 && active ? Array.from(kids[idx].querySelectorAll(active.tagName)).indexOf(active) : -1;
  parent.replaceChildren(...nodes.filter((n): n is Node => n !== null));
  if (idx < 0 || !active) return;
  const next = parent.children[idx];
  const target = next && (next.tagName === active.tagName ? next : next.querySelectorAll(active.tagName)[Math.max(0, inner)]);
  // After a frame: a freshly created web component sets its tabindex when it first renders.
  if (target instanceof HTMLElement) requestAnimationFrame(() => target.isConnected && target.focus());
}
