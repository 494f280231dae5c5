/**
 * What a failed PyTorch diagnosis shows: the bridge's one-line error (core/torch) becomes a notification with
 * the action that fixes it. Pure, so each mapping is unit-tested with the bridge's real messages.
 */

export type TorchErrorKind = 'python' | 'torch' | 'user-code' | 'cells' | 'weights' | 'device' | 'trust' | 'other';

/** Button labels (also how the command recognises the user's choice). */
export const TORCH_ACTIONS = {
  selectInterpreter: 'Select Python Interpreter',
  openFile: 'Open File',
  enterCells: 'Enter Cell Names',
  chooseWeights: 'Choose Weights…',
  openSettings: 'Open Settings',
  manageTrust: 'Manage Workspace Trust',
} as const;

export type TorchAction = (typeof TORCH_ACTIONS)[keyof typeof TORCH_ACTIONS];

export interface TorchErrorView {
  kind: TorchErrorKind;
  /** The notification's text (without the "RNN Memory:" prefix). */
  text: string;
  actions: TorchAction[];
  /** Where an exception in the user's file happened. */
  location?: { file: string; line: number };
}

const A = TORCH_ACTIONS;

/**
 * `python` is the Python that was used and `source` how the notification names where it came from (the CLI's
 * advice, --python and RNN_MEMORY_PYTHON, does not apply in the editor and is replaced).
 */
export function torchErrorView(message: string, python = 'python3', source = 'the default python3'): TorchErrorView {
  const m = message.trim();
  if (/^Python not found:/.test(m) || /^cannot start Python /.test(m))
    return {
      kind: 'python',
      text: `Python not found: "${python}" (${source}). Select an interpreter or set rnnMemory.python.path.`,
      actions: [A.selectInterpreter],
    };
  if (/^PyTorch is not installed for /.test(m) || /^torch \S+ is too old for /.test(m))
    return { kind: 'torch', text: m, actions: [A.selectInterpreter] };
  if (/trusted workspace/.test(m)) return { kind: 'trust', text: m, actions: [A.manageTrust] };
  const loc = /^(.+\.py):(\d+): ([A-Za-z_][\w.]*): ?(.*)$/.exec(m);
  if (loc) return { kind: 'user-code', text: m, actions: [A.openFile], location: { file: loc[1], line: Number(loc[2]) } };
  if (/^(no recurrent cell found|ambiguous cells|--cells: )/.test(m))
    return {
      kind: 'cells',
      text: m
        .replace(/^--cells: /, 'cell names: ')
        .replace(/; name the (cells|stack) with --cells$/, ': enter the cell submodules, bottom layer first'),
      actions: [A.enterCells],
    };
  if (
    /^weights .* do not match the module/.test(m) ||
    /^cannot read weights /.test(m) ||
    /^weights .* hold a /.test(m) ||
    /^weights file not found/.test(m)
  )
    return { kind: 'weights', text: m, actions: [A.chooseWeights] };
  if (/^--device cuda: /.test(m))
    return {
      kind: 'device',
      text: m.replace(/^--device cuda: /, 'device cuda (setting rnnMemory.python.device): '),
      actions: [A.openSettings],
    };
  return { kind: 'other', text: m, actions: [] };
}
