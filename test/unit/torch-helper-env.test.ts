/**
 * The PyTorch helper's environment: glibc's malloc tunables on Linux (huge pages, freed memory kept), placed
 * before the user's own so that theirs win, and left out with RNN_MEMORY_HUGE_PAGES=0 or on other systems;
 * and the helper process is really started with them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HELPER_MALLOC_TUNABLES, HelperProcess, helperEnv } from '../../core/torch/helper-process';
import { skipWithoutPython, torchPython } from '../helpers/torch-python';

test("helperEnv: the tunables on Linux, the user's own after them, nothing with RNN_MEMORY_HUGE_PAGES=0 or elsewhere", () => {
  const base = { PATH: '/usr/bin' };
  assert.deepEqual(helperEnv(base, 'linux'), { PATH: '/usr/bin', GLIBC_TUNABLES: HELPER_MALLOC_TUNABLES });
  assert.deepEqual(base, { PATH: '/usr/bin' }, 'the given environment is not changed');
  const user = { GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=0' };
  assert.equal(helperEnv(user, 'linux').GLIBC_TUNABLES, `${HELPER_MALLOC_TUNABLES}:glibc.malloc.trim_threshold=0`);
  const off = { RNN_MEMORY_HUGE_PAGES: '0', GLIBC_TUNABLES: 'x=1' };
  assert.deepEqual(helperEnv(off, 'linux'), off);
  for (const platform of ['darwin', 'win32'] as const) assert.deepEqual(helperEnv(base, platform), base);
  for (const t of HELPER_MALLOC_TUNABLES.split(':')) assert.match(t, /^glibc\.malloc\.(hugetlb|trim_threshold|top_pad)=\d+$/);
});

test('the helper process is started with them', { skip: skipWithoutPython('torch-helper-env.test.ts') }, () => {
  // A stand-in helper script that only writes down what it was given: the spawn path is the real one.
  const dir = mkdtempSync(join(tmpdir(), 'helper-env-'));
  try {
    const out = join(dir, 'env.txt');
    const script = join(dir, 'show_env.py');
    writeFileSync(script, 'import os\nopen(os.environ["RNN_TEST_OUT"], "w").write(os.environ.get("GLIBC_TUNABLES", "<unset>"))\n');
    const env = { ...process.env, RNN_TEST_OUT: out };
    const proc = new HelperProcess({ python: torchPython.python!, script, timeoutMs: 20_000, env });
    try {
      const pause = new Int32Array(new SharedArrayBuffer(4));
      for (let i = 0; i < 400 && !(existsSync(out) && statSync(out).size > 0); i++) Atomics.wait(pause, 0, 0, 50);
      const seen = readFileSync(out, 'utf8');
      assert.equal(seen, helperEnv(env).GLIBC_TUNABLES ?? '<unset>');
      if (process.platform === 'linux' && process.env.RNN_MEMORY_HUGE_PAGES !== '0')
        assert.ok(seen.startsWith(HELPER_MALLOC_TUNABLES), seen);
    } finally {
      proc.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
