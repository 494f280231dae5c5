// Writes package.json's `rnnMemory.train.*` settings and the values of `rnnMemory.engine` from the training schema (core/train/config-schema.ts):
// `node --import tsx scripts/sync-settings.ts` after changing a limit, default or help text there. Keys
// other than type, limits, default and description (e.g. enumDescriptions) are kept.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINE_NAMES, settingEntry, TRAIN_OPTIONS } from '../core/train/config-schema';

const LIMIT_KEYS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'];
const file = join(__dirname, '..', 'package.json');
const pkg = JSON.parse(readFileSync(file, 'utf8'));
const props: Record<string, Record<string, unknown>> = pkg.contributes.configuration.properties;
for (const o of TRAIN_OPTIONS) {
  if (!o.setting) continue;
  const name = `rnnMemory.train.${o.setting.name}`;
  const entry = settingEntry(o);
  const extras = Object.entries(props[name] ?? {}).filter(([k]) => !LIMIT_KEYS.includes(k) && !(k in entry));
  // Schema keys in their usual order (type, enum or limits, default, description); extras such as enumDescriptions follow the enum.
  const at = 'enum' in entry ? 2 : Object.keys(entry).length;
  const keys = Object.entries(entry);
  props[name] = Object.fromEntries([...keys.slice(0, at), ...extras, ...keys.slice(at)]);
}
// rnnMemory.engine (outside rnnMemory.train.*) takes the --engine values.
props['rnnMemory.engine'] = { ...props['rnnMemory.engine'], enum: [...ENGINE_NAMES] };
writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n');
console.log(`synced ${TRAIN_OPTIONS.filter((o) => o.setting).length} rnnMemory.train.* settings in package.json`);
