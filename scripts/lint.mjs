// `npm run lint`: ESLint (eslint.config.mjs), Prettier's check (.prettierrc) and dependency-cruiser's rules
// (.dependency-cruiser.cjs). Runs all three so one failure does not hide the others; exits non-zero if any failed.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const bin = (name) => join(root, 'node_modules', '.bin', name);
const checks = [
  ['eslint', bin('eslint'), ['--max-warnings=0', '.']],
  ['prettier --check', bin('prettier'), ['--check', '--log-level=warn', '.']],
  ['dependency-cruiser', bin('depcruise'), ['--config', '.dependency-cruiser.cjs', '.']],
];
const failed = [];
for (const [label, cmd, args] of checks) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) failed.push(label);
}
if (failed.length) {
  console.error(`lint failed: ${failed.join(', ')}`);
  process.exit(1);
}
console.log('lint: eslint, prettier and dependency-cruiser all pass');
