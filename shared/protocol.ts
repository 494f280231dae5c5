/**
 * The one message protocol between the extension host and every webview (panels, the Inspector view,
 * and the standalone HTML report, which feeds itself the same messages). Both sides import this file;
 * it is pure types plus runtime guards, with no `vscode`, DOM or Node imports.
 */
import type { DiagnosticReport, DiagnosisSentence } from '../core/diagnostics/types';
import type { Architecture } from '../core/model/architecture';
import type { TrainConfig, TrainEvent } from '../core/train/types';

export type ViewKind = 'bistability' | 'gradientFlow' | 'retention' | 'fixedPoints' | 'training' | 'inspector' | 'report';

export const VIEW_KINDS: readonly ViewKind[] = [
  'bistability',
  'gradientFlow',
  'retention',
  'fixedPoints',
  'training',
  'inspector',
  'report',
];

export interface ModelInfo {
  name: string;
  path?: string;
  architecture: Architecture;
  paramCount: number;
  warnings?: string[];
}

export type SnapshotStatus = 'running' | 'completed' | 'stopped' | 'failed';

/** One point of a training curve as the panels keep it. */
export interface TrainingPoint {
  step: number;
  loss?: number;
  testLoss?: number;
  metric?: number;
}

/** A number with its 95 % interval, as the report gives it (lo/hi may be ±Infinity when unknown). */
export interface Ranged {
  value: number;
  lo: number;
  hi: number;
}

/**
 * The headline numbers of one diagnosed weight snapshot (the Monitor's diagnose_every writes a full report
 * per diagnosed step), which the training panel's Over-training view draws against the step. Per-layer
 * arrays hold null where the report has no such number.
 */
export interface DiagnosedStep {
  step: number;
  /** [layer] fraction of neuron-steps with a > 1 (mean over the report's time steps). */
  fractionBistable: (number | null)[];
  /** [layer] median ‖∂L/∂h_0‖ / ‖∂L/∂h_T‖ over the sequences (below 1: the gradient decays going back). */
  gradientEndRatio: (Ranged | null)[];
  /** Copy-first-input recall at the longest delay, MSE over chance's MSE (1 = chance; null: not a copy model). */
  retention: (Ranged & { delay: number }) | null;
  /** Neurons that carry the task's target (the report's memory section; null when it was not computed). */
  memoryCarriers: number | null;
}

export interface TrainingSnapshot {
  runId: string;
  label: string;
  config: TrainConfig;
  /** One vocabulary (shared/labels RUN_STATE_WORDS): a run the user stopped is 'stopped', never 'cancelled'. */
  status: SnapshotStatus;
  step: number;
  totalSteps: number;
  stepsPerSec: number;
  etaMs: number | null;
  metricName: 'mse' | 'accuracy';
  points: TrainingPoint[];
  /** The engine that runs (or ran) the steps: native, wasm, reference, or a custom cell's backend. */
  engine?: string;
  /** Diagnosed snapshots in step order (monitored runs with diagnose_every); absent: none. */
  diagnosed?: DiagnosedStep[];
  error?: string;
}

// ---- host → webview -------------------------------------------------------------------------------------

export type HostToWebview =
  | { type: 'init'; view: ViewKind; title: string }
  | { type: 'report'; report: DiagnosticReport; label: string }
  /** Several runs/cells overlaid (retention, compare). */
  | { type: 'reports'; items: { label: string; report: DiagnosticReport }[] }
  /** Full state of a training run (sent on open and when a hidden panel becomes visible: latest wins). */
  | { type: 'training'; snapshot: TrainingSnapshot }
  /** An incremental training event for a run already shown. */
  | { type: 'trainingEvent'; runId: string; event: TrainEvent }
  | { type: 'inspector'; model: ModelInfo | null; diagnosis: DiagnosisSentence[]; training: TrainingSnapshot | null }
  | { type: 'status'; kind: 'info' | 'busy' | 'error'; text: string };

// ---- webview → host -------------------------------------------------------------------------------------

export type HostCommand =
  | 'openModel'
  | 'trainCopyTask'
  | 'trainTask'
  | 'stopTraining'
  | 'showBistabilityMap'
  | 'showGradientFlow'
  | 'showRetention'
  | 'exportReport';

export const HOST_COMMANDS: readonly HostCommand[] = [
  'openModel',
  'trainCopyTask',
  'trainTask',
  'stopTraining',
  'showBistabilityMap',
  'showGradientFlow',
  'showRetention',
  'exportReport',
];

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'stopTraining'; runId: string }
  | { type: 'command'; command: HostCommand }
  | { type: 'exportCsv'; filename: string; csv: string }
  /** A PNG as a data: URL (image/png, base64). */
  | { type: 'exportPng'; filename: string; dataUrl: string }
  | { type: 'error'; message: string };

const MAX_EXPORT_CHARS = 64 * 1024 * 1024;
const SAFE_FILENAME = /^[\w .()-]{1,120}$/;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isNum = (v: unknown): v is number => typeof v === 'number';
const isRanged = (v: unknown): boolean => isObj(v) && isNum(v.value) && isNum(v.lo) && isNum(v.hi);

function isDiagnosedStep(v: unknown): boolean {
  return (
    isObj(v) &&
    isNum(v.step) &&
    Array.isArray(v.fractionBistable) &&
    v.fractionBistable.every((f) => f === null || isNum(f)) &&
    Array.isArray(v.gradientEndRatio) &&
    v.gradientEndRatio.every((g) => g === null || isRanged(g)) &&
    (v.retention === null || (isRanged(v.retention) && isNum((v.retention as Record<string, unknown>).delay))) &&
    (v.memoryCarriers === null || isNum(v.memoryCarriers))
  );
}

/** Host-side guard for everything a webview posts (webviews are treated as untrusted). */
export function parseWebviewMessage(v: unknown): WebviewToHost | null {
  if (!isObj(v) || typeof v.type !== 'string') return null;
  switch (v.type) {
    case 'ready':
      return { type: 'ready' };
    case 'stopTraining':
      return typeof v.runId === 'string' && v.runId.length <= 200 ? { type: 'stopTraining', runId: v.runId } : null;
    case 'command':
      return typeof v.command === 'string' && (HOST_COMMANDS as readonly string[]).includes(v.command)
        ? { type: 'command', command: v.command as HostCommand }
        : null;
    case 'exportCsv':
      return typeof v.filename === 'string' &&
        SAFE_FILENAME.test(v.filename) &&
        v.filename.endsWith('.csv') &&
        typeof v.csv === 'string' &&
        v.csv.length <= MAX_EXPORT_CHARS
        ? { type: 'exportCsv', filename: v.filename, csv: v.csv }
        : null;
    case 'exportPng':
      return typeof v.filename === 'string' &&
        SAFE_FILENAME.test(v.filename) &&
        v.filename.endsWith('.png') &&
        typeof v.dataUrl === 'string' &&
        v.dataUrl.startsWith('data:image/png;base64,') &&
        v.dataUrl.length <= MAX_EXPORT_CHARS
        ? { type: 'exportPng', filename: v.filename, dataUrl: v.dataUrl }
        : null;
    case 'error':
      return typeof v.message === 'string' ? { type: 'error', message: v.message.slice(0, 2000) } : null;
    default:
      return null;
  }
}

const HOST_TYPES = new Set(['init', 'report', 'reports', 'training', 'trainingEvent', 'inspector', 'status']);

/** Webview-side guard: accepts only well-formed host messages (shape checks of the envelope and key fields). */
export function parseHostMessage(v: unknown): HostToWebview | null {
  if (!isObj(v) || typeof v.type !== 'string' || !HOST_TYPES.has(v.type)) return null;
  switch (v.type) {
    case 'init':
      return typeof v.view === 'string' && (VIEW_KINDS as readonly string[]).includes(v.view) && typeof v.title === 'string'
        ? (v as HostToWebview)
        : null;
    case 'report':
      return isObj(v.report) && typeof v.label === 'string' ? (v as HostToWebview) : null;
    case 'reports':
      return Array.isArray(v.items) && v.items.every((i) => isObj(i) && typeof i.label === 'string' && isObj(i.report))
        ? (v as HostToWebview)
        : null;
    case 'training':
      return isObj(v.snapshot) &&
        typeof v.snapshot.runId === 'string' &&
        Array.isArray(v.snapshot.points) &&
        (v.snapshot.diagnosed === undefined || (Array.isArray(v.snapshot.diagnosed) && v.snapshot.diagnosed.every(isDiagnosedStep)))
        ? (v as HostToWebview)
        : null;
    case 'trainingEvent':
      return typeof v.runId === 'string' && isObj(v.event) && typeof v.event.type === 'string' ? (v as HostToWebview) : null;
    case 'inspector':
      return Array.isArray(v.diagnosis) ? (v as HostToWebview) : null;
    case 'status':
      return typeof v.text === 'string' && ['info', 'busy', 'error'].includes(v.kind as string) ? (v as HostToWebview) : null;
    default:
      return null;
  }
}
