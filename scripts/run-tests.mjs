// Runs every test tier in order: unit tests of core/ (node --test through tsx), then the tiers that
// need a real VS Code when their setup is present.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const unitDir = join(root, 'test', 'unit');
const files = readdirSync(unitDir).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join('test', 'unit', f));
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
