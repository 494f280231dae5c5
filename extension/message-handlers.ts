/**
 * The one handler table for messages from webviews (panels, the model editor and the Inspector): keyed by
 * message type, each entry answers one validated message (shared/protocol parseWebviewMessage has checked it
 * in WebviewHost). No vscode import: the effects come in as `MessageDeps`, so the table is unit-tested.
 */
import type { HostCommand, HostToWebview, WebviewToHost } from '../shared/protocol';

/** What the webview that sent a message is about. */
export interface MessageContext {
  /** The model a panel or editor shows, or the Inspector's selected model. */
  modelPath?: string;
  /** The run a training panel shows, or the run the Inspector follows. */
  runId?: string;
  /** Which webview sent it (log lines). */
  view: string;
  /** Answers the sender (status line). */
  reply(m: HostToWebview): void;
}

export interface MessageDeps {
  /** Stops a live run; the number of runs asked to stop. */
  stop(runId: string): number;
  execute(command: string, ...args: unknown[]): Thenable<unknown> | Promise<unknown>;
  saveExport(filename: string, data: Uint8Array, filters: Record<string, string[]>): Promise<unknown>;
  warn(line: string): void;
}

export type InboundMessage = Exclude<WebviewToHost, { type: 'ready' }>;

/** Commands that act on a model take the sender's model; stopping takes its run. */
const MODEL_COMMANDS: ReadonlySet<HostCommand> = new Set(['showBistabilityMap', 'showGradientFlow', 'showRetention', 'exportReport']);

/** The arguments a webview's command button runs its command with (the same rule for every webview). */
export function commandArguments(command: HostCommand, ctx: Pick<MessageContext, 'modelPath' | 'runId'>): string[] {
  if (MODEL_COMMANDS.has(command)) return ctx.modelPath ? [ctx.modelPath] : [];
  if (command === 'stopTraining') return ctx.runId ? [ctx.runId] : [];
  return [];
}

const PNG_PREFIX = 'data:image/png;base64,';

type Handlers = {
  [K in InboundMessage['type']]: (deps: MessageDeps, ctx: MessageContext, m: Extract<InboundMessage, { type: K }>) => unknown;
};

export const MESSAGE_HANDLERS: Handlers = {
  stopTraining: (deps, ctx, m) => {
    if (deps.stop(m.runId) === 0) ctx.reply({ type: 'status', kind: 'info', text: `Run ${m.runId} is not training.` });
  },
  command: (deps, ctx, m) => deps.execute(`rnnMemory.${m.command}`, ...commandArguments(m.command, ctx)),
  exportCsv: (deps, _ctx, m) => deps.saveExport(m.filename, Buffer.from(m.csv, 'utf8'), { 'CSV files': ['csv'] }),
  exportPng: (deps, _ctx, m) =>
    deps.saveExport(m.filename, Buffer.from(m.dataUrl.slice(PNG_PREFIX.length), 'base64'), { 'PNG images': ['png'] }),
  error: (deps, ctx, m) => deps.warn(`webview ${ctx.view}: ${m.message}`),
};

export async function handleWebviewMessage(deps: MessageDeps, ctx: MessageContext, m: InboundMessage): Promise<void> {
  const handler = MESSAGE_HANDLERS[m.type] as (deps: MessageDeps, ctx: MessageContext, m: InboundMessage) => unknown;
  await handler(deps, ctx, m);
}
