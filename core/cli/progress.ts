/** A one-line progress bar for TTYs, plain periodic lines otherwise. */
import type { ProgressEvent } from '../train/types';

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

export function progressLine(e: ProgressEvent, width = 24, label = ''): string {
  const frac = Math.min(1, e.step / e.totalSteps);
  const filled = Math.round(frac * width);
  const eta = e.stepsPerSec > 0 ? ((e.totalSteps - e.step) / e.stepsPerSec) * 1000 : NaN;
  const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
  const skipped = e.skipped > 0 ? ` skipped ${e.skipped}` : '';
  const stage = e.seqLen !== undefined ? ` (curriculum: length ${e.seqLen})` : '';
  return `${label}[${bar}] ${e.step}/${e.totalSteps} loss ${e.loss.toPrecision(4)}${stage} ${e.stepsPerSec.toFixed(1)} steps/s ETA ${formatDuration(eta)}${skipped}`;
}

export class ProgressPrinter {
  private lastPlain = 0;
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly label = '',
  ) {}

  update(e: ProgressEvent): void {
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${progressLine(e, 24, this.label)}`);
    } else if (Date.now() - this.lastPlain > 5000 || e.step === e.totalSteps) {
      this.lastPlain = Date.now();
      this.stream.write(progressLine(e, 24, this.label) + '\n');
    }
  }

  /** Ends the bar's line before other output. */
  break(): void {
    if (this.stream.isTTY) this.stream.write('\n');
  }
}
