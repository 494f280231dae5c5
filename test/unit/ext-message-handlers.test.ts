import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  commandArguments,
  handleWebviewMessage,
  MESSAGE_HANDLERS,
  type MessageContext,
  type MessageDeps,
} from '../../extension/message-handlers';
import { HOST_COMMANDS, parseWebviewMessage, type HostToWebview } from '../../shared/protocol';

function harness(stopped = 1) {
  const calls: unknown[][] = [];
  const replies: HostToWebview[] = [];
  const deps: MessageDeps = {
    stop: (id) => (calls.push(['stop', id]), stopped),
    execute: async (cmd, ...args) => calls.push(['execute', cmd, ...args]),
    saveExport: async (name, data, filters) => calls.push(['save', name, Buffer.from(data).toString('utf8'), Object.keys(filters)]),
    warn: (line) => calls.push(['warn', line]),
  };
  const ctx = (over: Partial<MessageContext> = {}): MessageContext => ({ view: 'inspector', reply: (m) => replies.push(m), ...over });
  return { calls, replies, deps, ctx };
}

test('one table handles every inbound message type the protocol accepts', () => {
  const inbound = ['stopTraining', 'command', 'exportCsv', 'exportPng', 'error'];
  assert.deepEqual(Object.keys(MESSAGE_HANDLERS).sort(), inbound.sort());
});

test("commands that act on a model get the sender's model; stop gets its run; the rest nothing", () => {
  const ctx = { modelPath: '/m/gru.pt', runId: 'r1' };
  for (const c of HOST_COMMANDS) {
    const args = commandArguments(c, ctx);
    if (['showBistabilityMap', 'showGradientFlow', 'showRetention', 'exportReport'].includes(c)) assert.deepEqual(args, ['/m/gru.pt'], c);
    else if (c === 'stopTraining') assert.deepEqual(args, ['r1']);
    else assert.deepEqual(args, [], c);
  }
  assert.deepEqual(commandArguments('exportReport', {}), [], 'no model: the command asks');
});

test('messages are answered by their handler: commands, stop (with a reply when nothing runs), exports, errors', async () => {
  const h = harness(0);
  const send = (raw: unknown, over: Partial<MessageContext> = {}) => {
    const m = parseWebviewMessage(raw);
    assert.ok(m && m.type !== 'ready', JSON.stringify(raw));
    return handleWebviewMessage(h.deps, h.ctx(over), m as Exclude<typeof m, { type: 'ready' } | null>);
  };
  await send({ type: 'command', command: 'showRetention' }, { modelPath: '/a.safetensors' });
  await send({ type: 'stopTraining', runId: 'r9' });
  await send({ type: 'exportCsv', filename: 'curve.csv', csv: 'a,b\n1,2\n' });
  await send({ type: 'exportPng', filename: 'c.png', dataUrl: `data:image/png;base64,${Buffer.from('PNG!').toString('base64')}` });
  await send({ type: 'error', message: 'bad' });
  assert.deepEqual(h.calls, [
    ['execute', 'rnnMemory.showRetention', '/a.safetensors'],
    ['stop', 'r9'],
    ['save', 'curve.csv', 'a,b\n1,2\n', ['CSV files']],
    ['save', 'c.png', 'PNG!', ['PNG images']],
    ['warn', 'webview inspector: bad'],
  ]);
  assert.deepEqual(h.replies, [{ type: 'status', kind: 'info', text: 'Run r9 is not training.' }]);
  assert.equal(
    parseWebviewMessage({ type: 'command', command: 'deleteItem' }),
    null,
    'commands outside the list are refused before any handler',
  );
});
