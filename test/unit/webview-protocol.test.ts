import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHostMessage, parseWebviewMessage, VIEW_KINDS } from '../../webview/protocol';

test('parseHostMessage accepts well-formed messages of every type', () => {
  for (const view of VIEW_KINDS) assert.ok(parseHostMessage({ type: 'init', view, title: 't' }));
  assert.ok(parseHostMessage({ type: 'report', report: {}, label: 'x' }));
  assert.ok(parseHostMessage({ type: 'reports', items: [{ label: 'a', report: {} }] }));
  assert.ok(parseHostMessage({ type: 'training', snapshot: { runId: 'r', points: [] } }));
  assert.ok(parseHostMessage({ type: 'trainingEvent', runId: 'r', event: { type: 'progress' } }));
  assert.ok(parseHostMessage({ type: 'inspector', model: null, diagnosis: [], training: null }));
  assert.ok(parseHostMessage({ type: 'status', kind: 'busy', text: 'working' }));
});

test('parseHostMessage rejects malformed messages', () => {
  const bad: unknown[] = [
    null,
    undefined,
    42,
    'init',
    [],
    [{ type: 'init', view: 'report', title: 'x' }],
    {},
    { type: 'nope' },
    { type: 'init', view: 'bistability' },
    { type: 'init', view: 'terminal', title: 'x' },
    { type: 'init', view: 3, title: 'x' },
    { type: 'report', report: {} },
    { type: 'report', report: [], label: 'x' },
    { type: 'report', report: null, label: 'x' },
    { type: 'reports', items: {} },
    { type: 'reports', items: [{ label: 'a' }] },
    { type: 'reports', items: [{ label: 1, report: {} }] },
    { type: 'training', snapshot: { points: [] } },
    { type: 'training', snapshot: { runId: 'r', points: 'no' } },
    { type: 'trainingEvent', runId: 'r' },
    { type: 'trainingEvent', runId: 'r', event: { step: 1 } },
    { type: 'trainingEvent', event: { type: 'progress' } },
    { type: 'inspector', diagnosis: 'x' },
    { type: 'status', kind: 'fatal', text: 'x' },
    { type: 'status', kind: 'info' },
  ];
  for (const m of bad) assert.equal(parseHostMessage(m), null, JSON.stringify(m));
});

test('parseWebviewMessage rejects bad commands, unsafe file names and non-PNG data', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'command', command: 'openModel' }), { type: 'command', command: 'openModel' });
  assert.deepEqual(parseWebviewMessage({ type: 'stopTraining', runId: 'r1', extra: 1 }), { type: 'stopTraining', runId: 'r1' });
  const bad: unknown[] = [
    { type: 'command', command: 'rm -rf' },
    { type: 'command' },
    { type: 'stopTraining' },
    { type: 'stopTraining', runId: 'x'.repeat(201) },
    { type: 'exportCsv', filename: '../x.csv', csv: '' },
    { type: 'exportCsv', filename: 'x.txt', csv: '' },
    { type: 'exportCsv', filename: 'x.csv', csv: 5 },
    { type: 'exportPng', filename: 'x.png', dataUrl: 'data:image/svg+xml;base64,AA' },
    { type: 'exportPng', filename: 'x.png', dataUrl: 'javascript:alert(1)' },
    { type: 'exportPng', filename: 'a/b.png', dataUrl: 'data:image/png;base64,AA' },
    { type: 'error' },
    { type: 'eval', code: '1' },
  ];
  for (const m of bad) assert.equal(parseWebviewMessage(m), null, JSON.stringify(m));
  const err = parseWebviewMessage({ type: 'error', message: 'x'.repeat(5000) });
  assert.equal(err?.type === 'error' && err.message.length, 2000);
});
