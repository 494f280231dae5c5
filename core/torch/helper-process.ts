/**
 * A synchronous channel to the PyTorch helper (python/rnn_memory_bridge.py). The diagnostics call cells
 * synchronously, so a worker thread owns the child's pipes while the calling thread blocks in Atomics.wait
 * (with a timeout: a hung helper is killed, not waited for) and then takes the answer off a MessagePort with
 * receiveMessageOnPort. Messages are a JSON header line followed by the raw little-endian arrays it lists;
 * large arrays go through two files instead (see TransferFiles).
 */
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

export type Dtype = 'f4' | 'f8';

export interface HelperArray {
  dtype: Dtype;
  shape: number[];
  data: Float32Array | Float64Array;
}

export interface HelperAnswer {
  header: Record<string, unknown>;
  arrays: Record<string, HelperArray>;
}

export interface HelperOptions {
  python: string;
  script: string;
  /** Most time one request may take before the helper counts as hung and is killed (ms). */
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * glibc's malloc settings for the helper on Linux: transparent huge pages for its heap, and up to 256 MB of
 * freed memory kept instead of handed back at once. Without them autograd's saved tensors page-fault fresh
 * memory at every step of the helper's first pass (a T = 300 pass of one nBRC layer at batch 128: 1.0 s cold
 * against 0.1 s warm, 0.2 s cold with these), which was a third of a bridged diagnose. The user's own
 * GLIBC_TUNABLES come after these, so theirs win; RNN_MEMORY_HUGE_PAGES=0 (as for the native engine) or
 * another OS leaves the environment as it is. Other C libraries ignore the variable.
 */
export const HELPER_MALLOC_TUNABLES = 'glibc.malloc.hugetlb=1:glibc.malloc.trim_threshold=268435456:glibc.malloc.top_pad=33554432';

export function helperEnv(base: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): NodeJS.ProcessEnv {
  if (platform !== 'linux' || base.RNN_MEMORY_HUGE_PAGES === '0') return base;
  const own = base.GLIBC_TUNABLES;
  return { ...base, GLIBC_TUNABLES: own ? `${HELPER_MALLOC_TUNABLES}:${own}` : HELPER_MALLOC_TUNABLES };
}

/** Raised for anything the helper or its process reports; the message is the one line the user sees. */
export class TorchBridgeError extends Error {}

// Plain JavaScript evaluated as the worker: works the same from the sources (tsx) and from the bundle.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { spawn } = require('node:child_process');
const { port, flag, python, script, env } = workerData;
let done = false;
const answer = (msg, transfer) => {
  port.postMessage(msg, transfer || []);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
};
let child;
try {
  child = spawn(python, ['-u', script], { stdio: ['pipe', 'pipe', 'pipe'], env });
} catch (e) {
  done = true;
  answer({ spawnError: String((e && e.code) || e) });
}
if (child) start();
function start() {
let stderr = '';
child.stderr.on('data', (d) => { stderr = (stderr + d.toString()).slice(-4000); });
child.on('error', (e) => { if (!done) { done = true; answer({ spawnError: String(e.code || e.message) }); } });
child.on('exit', (code, signal) => { if (!done) { done = true; answer({ exited: { code, signal, stderr } }); } });
child.stdin.on('error', () => {});
// Chunks are kept in a list and joined once per message: joining on every 64 KB chunk copies a large answer
// hundreds of times over.
let chunks = [];
let have = 0;
let header = null;
let need = 0;
const joined = () => { if (chunks.length > 1) chunks = [Buffer.concat(chunks, have)]; return chunks[0] || Buffer.alloc(0); };
child.stdout.on('data', (d) => {
  chunks.push(d);
  have += d.length;
  for (;;) {
    if (!header) {
      const buf = joined();
      const nl = buf.indexOf(10);
      if (nl < 0) return;
      try { header = JSON.parse(buf.subarray(0, nl).toString()); } catch (e) { header = { error: 'the PyTorch helper wrote something that is not its protocol: ' + buf.subarray(0, Math.min(nl, 200)).toString() }; }
      chunks = [buf.subarray(nl + 1)];
      have = chunks[0].length;
      need = 0;
      if (!header.file) for (const b of header.buffers || []) need += b.shape.reduce((a, c) => a * c, 1) * (b.dtype === 'f8' ? 8 : 4);
    }
    if (have < need) return;
    const buf = joined();
    const payload = new Uint8Array(need);
    payload.set(buf.subarray(0, need));
    chunks = [buf.subarray(need)];
    have = chunks[0].length;
    const h = header;
    header = null;
    answer({ header: h, payload }, [payload.buffer]);
  }
});
port.on('message', (m) => {
  if (m.kill) { child.kill('SIGKILL'); return; }
  child.stdin.write(m.line);
  if (!m.payload) return;
  if (m.payload && m.payload.length) child.stdin.write(Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength));
});
answer({ pid: child.pid });
}
`;

/**
 * Large arrays travel through two files (tmpfs when /dev/shm exists): one write and one read each way, where
 * a pipe moves them in 64 KiB-1 MiB chunks that each wait for the other process to be scheduled (on a
 * loaded 2-core machine, ~100 ms per 8 MB answer). The helper opens both files at start; they are unlinked
 * after its first answer, so nothing is left behind even when both processes are killed.
 */
class TransferFiles {
  readonly dir: string;
  private readonly req: number;
  private readonly ans: number;
  private unlinked = false;

  constructor() {
    this.dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'rnn-memory-bridge-'));
    this.req = openSync(join(this.dir, 'request.bin'), 'w+');
    this.ans = openSync(join(this.dir, 'answer.bin'), 'w+');
  }

  write(payload: Uint8Array): void {
    for (let o = 0; o < payload.length;) o += writeSync(this.req, payload, o, payload.length - o, o);
  }

  read(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let o = 0; o < n;) {
      const got = readSync(this.ans, out, o, n - o, o);
      if (got <= 0) throw new TorchBridgeError('the PyTorch helper announced more data than it wrote');
      o += got;
    }
    return out;
  }

  unlink(): void {
    if (this.unlinked) return;
    this.unlinked = true;
    rmSync(this.dir, { recursive: true, force: true });
  }

  close(): void {
    this.unlink();
    closeSync(this.req);
    closeSync(this.ans);
  }
}

/** Requests whose arrays are smaller go on the pipe. */
const FILE_MIN_BYTES = 1 << 16;

const live = new Set<HelperProcess>();
let exitHookInstalled = false;

/** Stops every helper still running in this process (the CLI, at the end of each command). */
export function closeAllHelpers(): void {
  for (const h of [...live]) h.close();
}

export class HelperProcess {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag: Int32Array;
  /** The helper process's id (undefined when it could not start). */
  readonly pid: number | undefined;
  private readonly files: TransferFiles | undefined;
  /** The helper said it opened the files (its answer to "open" carries files: true). */
  private filesReady = false;
  private closed = false;

  constructor(private readonly opts: HelperOptions) {
    try {
      this.files = new TransferFiles();
    } catch {
      this.files = undefined; // no writable temporary folder: the pipe carries everything
    }
    const env = { ...helperEnv(opts.env ?? process.env), ...(this.files ? { RNN_MEMORY_BRIDGE_FILES: this.files.dir } : {}) };
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.flag = new Int32Array(new SharedArrayBuffer(4));
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { port: port2, flag: this.flag, python: opts.python, script: opts.script, env },
      transferList: [port2],
    });
    this.worker.unref();
    let first = this.wait(30_000, 'start');
    if (first.pid === undefined && !('spawnError' in first)) first = this.wait(30_000, 'start'); // spawn failures come after
    if ('spawnError' in first) {
      this.shutdown();
      throw new TorchBridgeError(
        first.spawnError === 'ENOENT'
          ? `Python not found: "${opts.python}" (give --python, set RNN_MEMORY_PYTHON, or install python3)`
          : `cannot start Python "${opts.python}": ${String(first.spawnError)}`,
      );
    }
    this.pid = first.pid as number;
    live.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      // Nothing is left running: the helper dies with this process even when nobody called close().
      process.once('exit', () => {
        for (const h of live) h.kill();
      });
    }
  }

  /** Sends one request and blocks until its answer; throws TorchBridgeError for an error answer or a dead/hung helper. */
  request(
    header: Record<string, unknown>,
    arrays: Record<string, { shape: number[]; data: Float64Array | Float32Array }> = {},
    dtype: Dtype = 'f4',
  ): HelperAnswer {
    if (this.closed) throw new TorchBridgeError('the PyTorch helper has already been stopped');
    const entries = Object.entries(arrays);
    const specs = entries.map(([name, a]) => ({ name, dtype, shape: a.shape }));
    // Every array has the one element size, so each lands aligned; converted straight into the payload.
    const size = dtype === 'f8' ? 8 : 4;
    const total = entries.reduce((s, [, a]) => s + a.data.length * size, 0);
    const payload = new Uint8Array(total);
    let o = 0;
    for (const [, a] of entries) {
      const n = a.data.length;
      const view = dtype === 'f8' ? new Float64Array(payload.buffer, o, n) : new Float32Array(payload.buffer, o, n);
      view.set(a.data);
      o += n * size;
    }
    const viaFile = this.filesReady && this.files !== undefined && total >= FILE_MIN_BYTES;
    if (viaFile) this.files.write(payload);
    const line = JSON.stringify({ ...header, buffers: specs, ...(viaFile ? { file: true } : {}) }) + '\n';
    if (viaFile) this.port.postMessage({ line });
    else this.port.postMessage({ line, payload }, [payload.buffer]);
    const m = this.wait(this.opts.timeoutMs, String(header.op));
    // Any answer means the helper has opened the files (it does so before reading anything).
    this.files?.unlink();
    if ('exited' in m) {
      this.shutdown();
      const { code, signal, stderr } = m.exited as { code: number | null; signal: string | null; stderr: string };
      const last = lastLine(stderr);
      throw new TorchBridgeError(
        `the PyTorch helper died (${signal ? `signal ${signal}` : `exit code ${code}`})${last ? `: ${last}` : ''}`,
      );
    }
    if ('spawnError' in m) {
      this.shutdown();
      throw new TorchBridgeError(`the PyTorch helper failed: ${String(m.spawnError)}`);
    }
    const h = m.header as Record<string, unknown>;
    if (h.files === true) this.filesReady = true;
    if (typeof h.error === 'string') throw new TorchBridgeError(h.error);
    const answer = h.file === true && this.files ? this.files.read(payloadBytes(h)) : (m.payload as Uint8Array);
    return { header: h, arrays: decode(h, answer) };
  }

  /** Asks the helper to exit, and kills it when it does not answer promptly. */
  close(): void {
    if (this.closed) return;
    try {
      const saved = this.opts.timeoutMs;
      this.opts.timeoutMs = Math.min(saved, 5000);
      this.request({ op: 'close' });
    } catch {
      // already dead or hung: killed below
    }
    this.shutdown();
  }

  private kill(): void {
    this.files?.unlink();
    if (this.pid !== undefined) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  private shutdown(): void {
    if (!this.closed) this.files?.close();
    this.closed = true;
    live.delete(this);
    this.kill();
    void this.worker.terminate();
  }

  private wait(timeoutMs: number, what: string): Record<string, unknown> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // The flag only wakes us; the port is the truth (a second message may already be queued).
      Atomics.store(this.flag, 0, 0);
      const m = receiveMessageOnPort(this.port);
      if (m) return m.message as Record<string, unknown>;
      const left = deadline - Date.now();
      if (left <= 0 || Atomics.wait(this.flag, 0, 0, left) === 'timed-out') {
        this.shutdown();
        throw new TorchBridgeError(`the PyTorch helper did not answer "${what}" within ${Math.round(timeoutMs / 1000)} s and was stopped`);
      }
    }
  }
}

function lastLine(s: string): string {
  const lines = s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.length ? lines[lines.length - 1].slice(0, 300) : '';
}

function payloadBytes(header: Record<string, unknown>): number {
  let n = 0;
  for (const b of (header.buffers ?? []) as { dtype: Dtype; shape: number[] }[])
    n += b.shape.reduce((a, c) => a * c, 1) * (b.dtype === 'f8' ? 8 : 4);
  return n;
}

function decode(header: Record<string, unknown>, payload: Uint8Array): Record<string, HelperArray> {
  const out: Record<string, HelperArray> = {};
  let o = 0;
  for (const b of (header.buffers ?? []) as { name: string; dtype: Dtype; shape: number[] }[]) {
    const n = b.shape.reduce((a, c) => a * c, 1);
    const size = b.dtype === 'f8' ? 8 : 4;
    const bytes = payload.slice(o, o + n * size); // copy: aligned for the typed array
    out[b.name] = {
      dtype: b.dtype,
      shape: b.shape,
      data: b.dtype === 'f8' ? new Float64Array(bytes.buffer) : new Float32Array(bytes.buffer),
    };
    o += n * size;
  }
  return out;
}
