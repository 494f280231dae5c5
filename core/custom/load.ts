/**
 * Loads a user's cell file into this thread: transpiles it (TypeScript's transpileModule, for .ts and .js
 * alike, to CommonJS with a source map), evaluates it with a require() that provides only `rnn-memory-lens`,
 * `@tensorflow/tfjs-core` and Node built-ins, and checks the exported definition's form. Errors raised by the
 * user's code become CustomCellErrors that name the user's file:line:column.
 *
 * This runs user code: call it only inside a worker thread or the CLI (core/custom/cell-check.ts and the training
 * and diagnostics workers do), never on the extension host's main thread.
 *
 * Why TypeScript's transpileModule: it is pure JavaScript (no native or WebAssembly binary, no child process),
 * synchronous, exact about TypeScript syntax and emits source maps; it is a devDependency already, and the
 * build copies it to dist/typescript.js so the packaged extension and CLI find it without node_modules.
 */
import { existsSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import vm from 'node:vm';
import type * as TS from 'typescript';
import { defineCell, type CellDefinition } from './api';
import { readCellSource, CustomCellError, type CellSource } from './source';
import { decodeMappings, originalPosition, type LineMappings } from './source-map';
import { loadTf } from './tf';

export interface LoadedCell {
  definition: CellDefinition;
  name: string;
  /** Absolute path of the cell file. */
  file: string;
  sha256: string;
  /** Turns anything the user's code threw into a CustomCellError naming `file:line:column` when a frame is there. */
  userError(e: unknown, during: string): CustomCellError;
}

let ts: typeof TS | undefined;

/** The TypeScript compiler: dist/typescript.js next to the bundle, else the typescript package (development). */
function typescript(): typeof TS {
  if (ts) return ts;
  const req = createRequire(__filename);
  const bundled = join(__dirname, 'typescript.js');
  try {
    ts = (existsSync(bundled) ? req(bundled) : req('typescript')) as typeof TS;
  } catch (e) {
    throw new Error(`cannot load the TypeScript compiler that custom cells need (${(e as Error).message}); rebuild with \`npm run build\``);
  }
  return ts;
}

/** Loads the TypeScript compiler and TensorFlow.js now (so that time limits measure the user's code only). */
export function warmUpCellRuntime(): void {
  typescript();
  loadTf();
}

/** CommonJS code and the decoded source map; syntax errors throw with the user's position. */
export function transpileCell(file: string, source: string): { code: string; map: LineMappings } {
  const t = typescript();
  // .mjs/.mts would make TypeScript keep ES module syntax; every cell is evaluated as CommonJS.
  const out = t.transpileModule(source, {
    fileName: /ts$/i.test(file) ? 'cell.ts' : 'cell.js',
    reportDiagnostics: true,
    compilerOptions: {
      module: t.ModuleKind.CommonJS,
      target: t.ScriptTarget.ES2022,
      sourceMap: true,
      esModuleInterop: true,
      allowJs: true,
    },
  });
  const diag = out.diagnostics?.find((d) => d.category === t.DiagnosticCategory.Error);
  if (diag) {
    const text = t.flattenDiagnosticMessageText(diag.messageText, '\n');
    if (diag.file && diag.start !== undefined) {
      // Positions come from the parsed source itself (the file name given to TypeScript is generic).
      const p = diag.file.getLineAndCharacterOfPosition(diag.start);
      throw new CustomCellError(`${file}:${p.line + 1}:${p.character + 1}: syntax error: ${text}`, file, p.line + 1, p.character + 1);
    }
    throw new CustomCellError(`${file}: syntax error: ${text}`, file);
  }
  const map = decodeMappings((JSON.parse(out.sourceMapText ?? '{"mappings":""}') as { mappings: string }).mappings);
  return { code: out.outputText.replace(/\/\/# sourceMappingURL=\S*\s*$/, ''), map };
}

const FRAME = /^\s*at (?:.*?\()?(.+?):(\d+):(\d+)\)?\s*$/;

/** The user's position of the innermost stack frame in `file` (mapped through the source map). */
export function userPosition(stack: string, file: string, map: LineMappings): { line: number; column: number } | null {
  for (const line of stack.split('\n')) {
    const m = FRAME.exec(line);
    if (m && m[1] === file) return originalPosition(map, Number(m[2]), Number(m[3]));
  }
  return null;
}

function describe(e: unknown): string {
  if (e instanceof Error) return e.name && e.name !== 'Error' ? `${e.name}: ${e.message}` : e.message;
  return String(e);
}

function makeUserError(file: string, map: LineMappings) {
  return (e: unknown, during: string): CustomCellError => {
    if (e instanceof CustomCellError) return e;
    const pos = e instanceof Error && typeof e.stack === 'string' ? userPosition(e.stack, file, map) : null;
    const where = pos ? `${file}:${pos.line}:${pos.column}` : file;
    return new CustomCellError(`${where}: ${during}: ${describe(e)}`, file, pos?.line, pos?.column, { cause: e });
  };
}

/** require() inside a cell: the cell API, TensorFlow.js and Node built-ins; nothing from the workspace. */
function cellRequire(file: string): (id: string) => unknown {
  const nodeRequire = createRequire(file);
  return (id: string) => {
    if (id === 'rnn-memory-lens' || id === 'rnn-memory-lens/cell') return { defineCell };
    if (id === '@tensorflow/tfjs-core' || id === '@tensorflow/tfjs') return loadTf().tf;
    if (id.startsWith('node:') || builtinModules.includes(id)) return nodeRequire(id);
    throw new Error(
      `cannot import "${id}": a custom cell may import only "rnn-memory-lens", "@tensorflow/tfjs-core" and Node built-in modules (keep the cell in one file)`,
    );
  };
}

/** Checks the exported object's form (not yet its shapes: see cell-def.ts). */
export function checkDefinition(exported: unknown, file: string): CellDefinition {
  const fail = (msg: string): never => {
    throw new CustomCellError(`${file}: ${msg}`, file);
  };
  let d = exported as Record<string, unknown> | null;
  if (d && typeof d === 'object' && 'default' in d && d.default !== undefined) d = d.default as Record<string, unknown>;
  if (!d || typeof d !== 'object') return fail('the module must export a cell definition (export default defineCell({...}))');
  if (typeof d.name !== 'string' || !/^[A-Za-z0-9][\w.-]{0,63}$/.test(d.name))
    fail('"name" must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit');
  if (typeof d.params !== 'function') fail('"params" must be a function (inputSize, units) => [{ name, shape, init }, ...]');
  if (typeof d.step !== 'function') fail('"step" must be a function (tf, params, x, state, ctx) => ({ state, h?, gates? })');
  if (d.stateSize !== undefined && typeof d.stateSize !== 'function') fail('"stateSize" must be a function (units) => number when given');
  return d as unknown as CellDefinition;
}

/**
 * Reads, transpiles and evaluates a cell file in this thread and checks the definition's form.
 * Throws CustomCellError (with the user's position where the error came from the user's code).
 */
export function loadCustomCell(path: string): LoadedCell {
  return loadCellSource(readCellSource(path));
}

/** loadCustomCell() of bytes already read (and hash-checked by the caller): exactly these bytes run. */
export function loadCellSource(src: CellSource): LoadedCell {
  const { file } = src;
  const { code, map } = transpileCell(file, src.source);
  const userError = makeUserError(file, map);
  // tfjs adds a dozen frames between an op and the user's call; keep enough to reach the user's code.
  if (Error.stackTraceLimit < 64) Error.stackTraceLimit = 64;
  const mod: { exports: unknown } = { exports: {} };
  try {
    const fn = vm.compileFunction(code, ['exports', 'require', 'module', '__filename', '__dirname'], { filename: file });
    fn.call(mod.exports, mod.exports, cellRequire(file), mod, file, dirname(file));
  } catch (e) {
    throw userError(e, 'loading the module failed');
  }
  const definition = checkDefinition(mod.exports, file);
  return { definition, name: definition.name, file, sha256: src.sha256, userError };
}
