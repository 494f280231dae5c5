/**
 * A sweep's (or reproduction's) results as one self-contained HTML page: per task the table of final
 * metric (mean ± sd over seeds, best in brackets, the test set's chance level), and per configuration the
 * learning curves of every run as inline SVG (one colour per cell, chance dashed). No script, no assets.
 */
import { columnOf, formatMetric, formatSpread, settingsText, type SweepReport, type SweepRun } from '../diagnostics/sweep';
import type { TaskKind } from '../tasks/types';
import { escapeHtml } from './html';

const COLORS: Record<string, string> = { brc: '#1f77b4', nbrc: '#2ca02c', gru: '#d62728', lstm: '#9467bd' };
const colorOf = (cell: string) => COLORS[cell] ?? '#555';
const TITLE: Record<TaskKind, string> = { copy: 'Copy-first-input', denoise: 'Denoising', smnist: 'Sequential MNIST with black pixels' };

/** Learning curves of some runs: x = training step, y = test metric. */
export function curvesSvg(runs: readonly SweepRun[], chance: number | null, title: string): string {
  const W = 320;
  const H = 200;
  const L = 44;
  const B = 30;
  const pts = runs.flatMap((r) => r.curve);
  if (pts.length === 0) return `<figure class="curve"><figcaption>${escapeHtml(title)}</figcaption><p>no evaluations yet</p></figure>`;
  const xMax = Math.max(1, ...pts.map((p) => p[0]));
  const ys = pts.map((p) => p[1]).filter(Number.isFinite);
  const yMax = Math.max(chance ?? 0, ...ys) * 1.05 || 1;
  const x = (s: number) => L + ((W - L - 8) * s) / xMax;
  const y = (v: number) => 8 + (H - B - 8) * (1 - Math.min(1, Math.max(0, v / yMax)));
  const lines = runs
    .filter((r) => r.curve.length)
    .map(
      (r) =>
        `<polyline fill="none" stroke="${colorOf(r.cell)}" stroke-width="1.5" points="${r.curve
          .filter((p) => Number.isFinite(p[1]))
          .map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`)
          .join(' ')}"><title>${escapeHtml(`${r.cell} seed ${r.seed}`)}</title></polyline>`,
    )
    .join('');
  const chanceLine =
    chance === null
      ? ''
      : `<line x1="${L}" x2="${W - 8}" y1="${y(chance).toFixed(1)}" y2="${y(chance).toFixed(1)}" stroke="#888" stroke-dasharray="4 3"><title>chance ${formatMetric(chance)}</title></line>`;
  const axes = `<line x1="${L}" y1="${H - B}" x2="${W - 8}" y2="${H - B}" stroke="#444"/><line x1="${L}" y1="8" x2="${L}" y2="${H - B}" stroke="#444"/>`;
  const labels =
    `<text x="${L}" y="${H - B + 14}" font-size="10">0</text><text x="${W - 8}" y="${H - B + 14}" font-size="10" text-anchor="end">${xMax}</text>` +
    `<text x="${(L + W) / 2}" y="${H - 4}" font-size="10" text-anchor="middle">training step</text>` +
    `<text x="${L - 4}" y="${y(0) + 3}" font-size="10" text-anchor="end">0</text><text x="${L - 4}" y="14" font-size="10" text-anchor="end">${formatMetric(yMax)}</text>` +
    `<text x="10" y="${(H - B) / 2}" font-size="10" text-anchor="middle" transform="rotate(-90 10 ${(H - B) / 2})">test ${escapeHtml(runs[0]?.metricName ?? 'metric')}</text>`;
  return `<figure class="curve"><figcaption>${escapeHtml(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(title)}">${axes}${chanceLine}${lines}${labels}</svg></figure>`;
}

export function renderSweepHtml(r: SweepReport, extra = ''): string {
  const parts: string[] = [];
  const heading = r.budget ? `Paper benchmarks reproduced (${r.budget} budget)` : 'Sweep';
  parts.push(`<h1>${escapeHtml(heading)}</h1>`);
  const c = r.config;
  parts.push(
    `<p>${r.tasks.length > 1 ? '' : `${settingsText(c)}, `}engine ${escapeHtml(c.engine)}; seeds ${r.seeds.join(', ')}` +
      `${r.seeds.length > 1 ? ' (table: mean ± sd over seeds)' : ''}. Chance: the metric of the best predictor that ignores the input, on each run's own test set.</p>`,
  );
  parts.push(
    `<p class="legend">${Object.keys(COLORS)
      .filter((k) => r.cells.includes(k as never))
      .map((k) => `<span style="color:${COLORS[k]}">■</span> ${k}`)
      .join(' &nbsp; ')} &nbsp; <span class="dash">- - -</span> chance</p>`,
  );
  for (const task of r.tasks) {
    const gs = r.groups.filter((g) => g.task === task);
    const cols = [...new Map(gs.map((g) => [columnOf(task, g).label, columnOf(task, g)])).values()].sort((a, b) => a.value - b.value);
    const metric = gs[0]?.metricName === 'accuracy' ? 'test accuracy (higher is better)' : 'test MSE (lower is better)';
    parts.push(`<h2>${TITLE[task]}: ${metric}</h2>`);
    const head = `<tr><th>cell</th>${cols.map((k) => `<th>${escapeHtml(k.label)}</th>`).join('')}</tr>`;
    const rows = r.cells
      .map((cell) => {
        const tds = cols.map((k) => {
          const g = gs.find((x) => x.cell === cell && columnOf(task, x).label === k.label);
          if (!g) return '<td></td>';
          const best = g.best && g.final && g.best.mean !== g.final.mean ? ` <small>(best ${formatSpread(g.best)})</small>` : '';
          return `<td>${formatSpread(g.final)}${best}</td>`;
        });
        return tds.some((t) => t !== '<td></td>') ? `<tr><th>${cell}</th>${tds.join('')}</tr>` : '';
      })
      .join('');
    const chance = cols.map((k) => {
      const g = gs.find((x) => columnOf(task, x).label === k.label && x.chance !== null);
      return `<td><em>${g ? formatMetric(g.chance!) : 'n/a'}</em></td>`;
    });
    parts.push(`<table>${head}${rows}<tr><th><em>chance</em></th>${chance.join('')}</tr></table>`);
    const tc = r.taskConfigs?.[task];
    if (tc && r.tasks.length > 1) parts.push(`<p>${escapeHtml(settingsText(tc))}.</p>`);
    parts.push('<div class="curves">');
    for (const k of cols) {
      const runs = r.runs.filter((x) => x.task === task && columnOf(task, x).label === k.label);
      const g = gs.find((x) => columnOf(task, x).label === k.label);
      parts.push(curvesSvg(runs, g?.chance ?? null, `${TITLE[task]}, ${k.label}`));
    }
    parts.push('</div>');
  }
  parts.push(extra);
  const style = `body{font:14px system-ui,sans-serif;margin:2em;max-width:72em;color:#222;background:#fff}table{border-collapse:collapse;margin:.5em 0 1em}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}th:first-child{text-align:left}.curves{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figcaption{font-size:12px;color:#444}.dash{color:#888}@media (prefers-color-scheme: dark){body{color:#ddd;background:#1e1e1e}th,td{border-color:#555}figcaption{color:#bbb}svg text{fill:#ccc}svg line{stroke:#aaa}}`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"><title>${escapeHtml(heading)}</title><style>${style}</style></head><body>${parts.join('\n')}</body></html>\n`;
}
