/**
 * Which Python runs the user's PyTorch model, in this order: the setting rnnMemory.python.path, else the
 * interpreter selected in the Python extension (when it is installed), else `python3`. Pure (the vscode glue
 * is in python-interpreter.ts), so the order is unit-tested.
 */
export type PythonSource = 'setting' | 'python-extension' | 'default';

export interface PythonChoice {
  python: string;
  source: PythonSource;
}

/** How the notification names where the Python came from. */
export const PYTHON_SOURCE_TEXT: Record<PythonSource, string> = {
  setting: 'setting rnnMemory.python.path',
  'python-extension': 'the interpreter selected in the Python extension',
  default: 'the default python3',
};

export function choosePython(setting: unknown, selected: string | undefined): PythonChoice {
  const s = typeof setting === 'string' ? setting.trim() : '';
  if (s) return { python: s, source: 'setting' };
  const p = selected?.trim();
  if (p) return { python: p, source: 'python-extension' };
  return { python: 'python3', source: 'default' };
}

/** rnnMemory.python.device: cuda only when asked for, anything else is cpu. */
export function chooseDevice(setting: unknown): 'cpu' | 'cuda' {
  return setting === 'cuda' ? 'cuda' : 'cpu';
}
