/** A small strict flag parser: `--name value`, `--name=value` and boolean `--flag`. */
export class UsageError extends Error {}

export interface ParsedArgs {
  command: string | undefined;
  flags: Map<string, string | true>;
  positional: string[];
}

export function parseArgs(argv: string[]): ParsedArgs {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  let command: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      if (!name) throw new UsageError(`malformed flag "${a}"`);
      if (flags.has(name)) throw new UsageError(`flag --${name} given twice`);
      if (eq >= 0) flags.set(name, a.slice(eq + 1));
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) flags.set(name, argv[++i]);
      else flags.set(name, true);
    } else if (command === undefined) {
      command = a;
    } else {
      positional.push(a);
    }
  }
  return { command, flags, positional };
}

/** Reads flags for one command, refusing unknown ones so typos do not pass silently. */
export class FlagReader {
  private readonly used = new Set<string>();
  constructor(
    private readonly flags: Map<string, string | true>,
    private readonly command: string,
  ) {}

  string(name: string): string | undefined {
    this.used.add(name);
    const v = this.flags.get(name);
    if (v === true) throw new UsageError(`--${name} needs a value`);
    return v;
  }

  requireString(name: string): string {
    const v = this.string(name);
    if (v === undefined) throw new UsageError(`${this.command} needs --${name}`);
    return v;
  }

  bool(name: string): boolean {
    this.used.add(name);
    const v = this.flags.get(name);
    if (v === undefined) return false;
    if (v === true || v === 'true') return true;
    if (v === 'false') return false;
    throw new UsageError(`--${name} takes no value (got "${v}")`);
  }

  int(name: string): number | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new UsageError(`--${name} must be an integer (got "${v}")`);
    return n;
  }

  number(name: string): number | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number (got "${v}")`);
    return n;
  }

  /** Throws on any flag that was never read. */
  finish(): void {
    for (const name of this.flags.keys()) {
      if (!this.used.has(name)) throw new UsageError(`unknown flag --${name} for "${this.command}" (see rnn-memory help)`);
    }
  }
}
