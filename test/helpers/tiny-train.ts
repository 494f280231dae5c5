/** `train` arguments for the smallest copy run a test needs (an nBRC of 6 units, 2 steps): seconds on any engine. */
export function tinyTrainArgs(out: string): string[] {
  return [
    'train',
    '--task',
    'copy',
    '--cell',
    'nbrc',
    '--out',
    out,
    '--steps',
    '2',
    '--units',
    '6',
    '--batch',
    '4',
    '--T',
    '8',
    '--test-size',
    '8',
  ];
}
