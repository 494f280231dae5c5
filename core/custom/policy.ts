/**
 * Whether this process may run custom cell code, for callers that do not say so explicitly (the training
 * runner's default). Off unless a host turns it on: the extension ties it to workspace trust
 * (extension/custom-cells.ts); the CLI passes `allowCustomCells: true` itself.
 */
let policy: () => boolean = () => false;

export function setCustomCellPolicy(allow: () => boolean): void {
  policy = allow;
}

export function customCellsAllowed(): boolean {
  try {
    return policy() === true;
  } catch {
    return false;
  }
}

/** The message when custom code is refused. */
export function customCellsDisabledMessage(name: string, source: string): string {
  return `this uses the custom cell "${name}" (${source}), and custom cells run only where code execution is allowed (in VS Code: a trusted workspace)`;
}
