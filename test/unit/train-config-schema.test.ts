// The training schema (core/train/config-schema) against everything that repeats it: package.json's settings,
// the CLI's help and flags, config validation and the extension's quick-pick defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlagReader, parseArgs } from '../../core/cli/args';
import { HELP } from '../../core/cli/main';
import { runCli } from '../helpers/cli';
import { trainConfigFlags } from '../../core/cli/train-flags';
import { DEFAULT_CONFIG, normalizeConfig, taskDefaults } from '../../core/train/config';
import { ENGINE_NAMES, settingEntry, TRAIN_OPTIONS, type NumberOption, type TrainOption } from '../../core/train/config-schema';
import { configFromPicks, FALLBACK_DEFAULTS, trainDefaultsFrom } from '../../extension/train-picks';

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
const settings: Record<string, Record<string, unknown>> = pkg.contributes.configuration.properties;
const numeric = TRAIN_OPTIONS.filter((o): o is NumberOption => o.type !== 'enum');
const withSetting = TRAIN_OPTIONS.filter((o) => o.setting);

test("package.json declares exactly the schema's training settings, with its types, limits, defaults and text", () => {
  const declared = Object.keys(settings)
    .filter((k) => k.startsWith('rnnMemory.train.'))
    .sort();
  assert.deepEqual(
    declared,
    withSetting.map((o) => `rnnMemory.train.${o.setting!.name}`).sort(),
    'run: node --import tsx scripts/sync-settings.ts',
  );
  for (const o of withSetting) {
    const entry = settings[`rnnMemory.train.${o.setting!.name}`];
    const { enumDescriptions, ...rest } = entry;
    assert.deepEqual(
      rest,
      settingEntry(o),
      `rnnMemory.train.${o.setting!.name} differs from the schema; run: node --import tsx scripts/sync-settings.ts`,
    );
    if (o.type === 'enum' && enumDescriptions !== undefined) assert.equal((enumDescriptions as unknown[]).length, o.values.length);
  }
});

test('rnnMemory.engine offers exactly the --engine values, each described', () => {
  const e = settings['rnnMemory.engine'];
  assert.deepEqual(e.enum, [...ENGINE_NAMES], 'run: node --import tsx scripts/sync-settings.ts');
  assert.equal((e.enumDescriptions as unknown[]).length, ENGINE_NAMES.length);
  assert.deepEqual(ENGINE_NAMES, ['fast', 'native', 'wasm', 'reference']);
});

test('the clipping the diagnosis advises is a setting of the extension', () => {
  assert.equal(settings['rnnMemory.train.clipNorm']?.type, 'number');
  assert.equal(settings['rnnMemory.train.clipNorm']?.minimum, 0);
});

/** The numbers a help line names as defaults, e.g. "(copy 2, denoise/smnist 4)" → [2, 4]; "(1e-3)" → [0.001]. */
function helpNumbers(o: TrainOption): number[] {
  return [...o.help.matchAll(/\(([^)]*)\)/g)].flatMap((m) => [...m[1].matchAll(/-?\d+(?:\.\d+)?(?:e-?\d+)?/g)].map((n) => Number(n[0])));
}

test("the CLI help lists every training flag with the schema's default", () => {
  for (const o of TRAIN_OPTIONS) {
    if (o.key === 'task' || o.key === 'cell') {
      assert.ok(HELP.includes(`--${o.flag} ${o.metavar}`), o.flag);
      continue;
    }
    const line = HELP.split('\n').find((l) => l.startsWith(`  --${o.flag} ${o.metavar} `));
    assert.ok(line, `no help line for --${o.flag}`);
    assert.ok(line.includes(o.help.split('\n')[0]), line);
    if (o.type === 'enum') {
      assert.ok(line.includes(`(${o.default}`), line);
      continue;
    }
    // Each default the schema holds (per task where it differs) is the one the help names.
    // (Not where the option does not apply: smnist's T is fixed, copy has no N.)
    const perTask = Object.entries(o.perTask ?? {}).filter(
      ([task]) => !(o.key === 'T' && task === 'smnist') && !(o.key === 'N' && task === 'copy'),
    );
    const defaults = new Set(o.perTask ? perTask.map(([, v]) => v) : [o.default]);
    const named = helpNumbers(o);
    for (const d of defaults) assert.ok(named.includes(d), `--${o.flag}: help names ${named}, default ${d}`);
  }
});

test("the defaults applied without flags are the schema's, per task", () => {
  for (const task of ['copy', 'denoise', 'smnist'] as const) {
    const c = normalizeConfig({ task });
    for (const o of TRAIN_OPTIONS) {
      if (o.key === 'task') continue;
      const expected = o.type !== 'enum' && o.perTask?.[task] !== undefined ? o.perTask[task] : o.default;
      assert.equal(c[o.key], expected, `${task} ${o.key}`);
    }
  }
  assert.deepEqual(taskDefaults('denoise'), { T: 400, N: 200, layers: 4 });
  assert.equal(DEFAULT_CONFIG.clipNorm, 0);
});

function fromFlags(args: string[]) {
  const { flags } = parseArgs(['train', ...args]);
  const f = new FlagReader(flags, 'train');
  const c = trainConfigFlags(f);
  f.finish();
  return normalizeConfig({ task: 'copy', cell: 'brc', ...stripUndefined(c) });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

test('every numeric flag accepts its limits and refuses one step beyond them, naming the flag', () => {
  for (const o of numeric) {
    const step = o.type === 'integer' ? 1 : 1e-9;
    const inside = (v: number) => String(o.key === 'N' ? Math.min(v, 290) : v);
    if (o.min !== undefined) {
      const lo = o.exclusiveMin ? o.min + step : o.min;
      assert.equal(fromFlags([`--${o.flag}`, inside(lo)])[o.key], Number(inside(lo)), `--${o.flag} ${lo}`);
      const below = o.exclusiveMin ? o.min : o.min - step;
      assert.throws(() => fromFlags([`--${o.flag}`, String(below)]), new RegExp(`^Error: --${o.flag} must be`), `--${o.flag} ${below}`);
    }
    if (o.max !== undefined && o.key !== 'N') {
      const hi = o.exclusiveMax ? o.max - step : o.max;
      assert.equal(fromFlags([`--${o.flag}`, String(hi)])[o.key], hi, `--${o.flag} ${hi}`);
      const above = o.exclusiveMax ? o.max : o.max + step;
      assert.throws(
        () => fromFlags([`--${o.flag}`, String(above)]),
        new RegExp(`^Error: --${o.flag} must be .*\\(got ${above}\\)`),
        `--${o.flag} ${above}`,
      );
    }
  }
  assert.equal(fromFlags(['--clip', '2.5']).clipNorm, 2.5);
});

test('the quick-pick defaults come from the settings within the same limits as the CLI', () => {
  for (const o of withSetting) assert.equal(FALLBACK_DEFAULTS[o.key as keyof typeof FALLBACK_DEFAULTS], o.setting!.default, o.key);
  for (const o of withSetting) {
    if (o.type === 'enum' || o.max === undefined) continue;
    const hi = o.exclusiveMax ? o.max / 2 : o.max;
    const name = o.setting!.name;
    assert.equal(trainDefaultsFrom((k) => (k === name ? hi : undefined))[o.key as keyof typeof FALLBACK_DEFAULTS], hi, `${name} = ${hi}`);
    const beyond = o.exclusiveMax ? o.max : o.max + 1;
    assert.equal(
      trainDefaultsFrom((k) => (k === name ? beyond : undefined))[o.key as keyof typeof FALLBACK_DEFAULTS],
      o.setting!.default,
      `${name} = ${beyond}`,
    );
  }
  // The sizes the quick picks accept are the ones training accepts (once 16 layers / 4096 units in the extension).
  const big = trainDefaultsFrom((k) => ({ layers: 64, units: 16384 })[k]);
  assert.deepEqual([big.layers, big.units], [64, 16384]);
});

test('the clip setting reaches the config the quick picks build', () => {
  const d = trainDefaultsFrom((k) => (k === 'clipNorm' ? 1 : undefined));
  assert.equal(d.clipNorm, 1);
  const c = configFromPicks({ task: 'copy', cell: 'brc', T: 20, size: { layers: 1, units: 8 }, steps: 10 }, d, 'reference');
  assert.equal(c.clipNorm, 1);
  assert.equal(trainDefaultsFrom((k) => (k === 'clipNorm' ? -1 : undefined)).clipNorm, 0);
});

test('train refuses a value beyond the schema in one line, before it creates the run folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'schema-cli-'));
  try {
    const out = join(dir, 'run');
    for (const o of numeric.filter((n) => n.max !== undefined)) {
      const beyond = o.exclusiveMax ? o.max! : o.max! + 1;
      const r = await runCli(['train', '--task', 'copy', '--cell', 'brc', '--out', out, `--${o.flag}`, String(beyond)]);
      assert.equal(r.code, 2, `--${o.flag} ${beyond}: ${r.stderr}`);
      // One line naming the flag, the limit and the value.
      assert.match(r.stderr, new RegExp(`^rnn-memory: --${o.flag} must be [^\\n]*${o.max}[^\\n]* \\(got ${beyond}\\)\\n$`));
      assert.ok(!existsSync(out), `--${o.flag}: the run folder was created`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
