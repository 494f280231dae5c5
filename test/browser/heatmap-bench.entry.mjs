// Browser-side timing of the real heatmap path (ImageData paint + putImageData) for 100 × 10 000 cells.
// Bundled on the fly by test/browser/report.test.ts; plain JS so the Node-only tsconfig doesn't check DOM code.
import { Heatmap } from '../../webview/heatmap';
import { divergingScale } from '../../webview/lib/colormap';

const rows = 100;
const cols = 10_000;
const values = new Float32Array(rows * cols);
for (let i = 0; i < values.length; i++) values[i] = 1 + 0.8 * Math.sin(i * 0.0007) * Math.cos(i * 0.013);
const hm = new Heatmap({ label: 'bench', describe: () => '', colors: () => ({ mark: '#000', select: '#00f', hover: '#000' }) });
document.getElementById('host').append(hm.el);
const data = { values, rows, cols, scale: divergingScale([0, 0, 255], [128, 128, 128], [255, 0, 0], 1, 1), background: [255, 255, 255] };
const times = [];
let info;
hm.setData(data);
for (let k = 0; k < 7; k++) {
  info = hm.paintNow();
  times.push(info.ms);
}
times.sort((a, b) => a - b);
window.benchResult = {
  medianMs: times[3],
  minMs: times[0],
  maxMs: times[times.length - 1],
  width: info.width,
  height: info.height,
  painted: info.painted,
  cells: info.cells,
};
