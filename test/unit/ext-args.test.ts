import { test } from 'node:test';
import assert from 'node:assert/strict';
import { optionsArg, pathFromArg, pathsFromArgs, runIdFromArg } from '../../extension/args';

const uri = (fsPath: string) => ({ scheme: 'file', fsPath, path: fsPath });

test('pathFromArg understands Uris, file URLs, plain paths, tree nodes and option objects', () => {
  assert.equal(pathFromArg(uri('/w/a.safetensors')), '/w/a.safetensors');
  assert.equal(pathFromArg('file:///w/my%20model.safetensors'), '/w/my model.safetensors');
  assert.equal(pathFromArg('/w/b.safetensors'), '/w/b.safetensors');
  assert.equal(pathFromArg({ kind: 'model', path: '/w/c.safetensors', id: 'x' }), '/w/c.safetensors');
  assert.equal(pathFromArg({ modelPath: '/w/d.safetensors' }), '/w/d.safetensors');
  assert.equal(pathFromArg({ uri: uri('/w/e.safetensors') }), '/w/e.safetensors');
  assert.equal(pathFromArg({ scheme: 'untitled', fsPath: 'Untitled-1', path: 'Untitled-1' }), undefined);
  for (const bad of [undefined, null, '', 42, [], { steps: 3 }]) assert.equal(pathFromArg(bad), undefined, JSON.stringify(bad));
});

test('runIdFromArg accepts safe ids only', () => {
  assert.equal(runIdFromArg('20260101-120000-copy-brc'), '20260101-120000-copy-brc');
  assert.equal(runIdFromArg({ kind: 'run', runId: 'r1', path: '/w/runs/r1' }), 'r1');
  assert.equal(runIdFromArg('../../etc'), undefined);
  assert.equal(runIdFromArg({ runId: 'a/b' }), undefined);
  assert.equal(runIdFromArg(7), undefined);
});

test('pathsFromArgs takes the multi-selection of a tree context menu, else the clicked item, without duplicates', () => {
  const a = { kind: 'model', path: '/a' };
  const b = { kind: 'run', path: '/runs/b' };
  assert.deepEqual(pathsFromArgs(a, [a, b]), ['/a', '/runs/b']);
  assert.deepEqual(pathsFromArgs(a, undefined), ['/a']);
  assert.deepEqual(pathsFromArgs([uri('/x'), uri('/y'), uri('/x')], undefined), ['/x', '/y']);
  assert.deepEqual(pathsFromArgs(undefined, undefined), []);
});

test('optionsArg returns plain option objects only', () => {
  assert.deepEqual(optionsArg({ wait: true }), { wait: true });
  assert.equal(optionsArg(uri('/a')), undefined);
  assert.equal(optionsArg({ kind: 'run', runId: 'r' }), undefined);
  assert.equal(optionsArg('x'), undefined);
  assert.equal(optionsArg([1]), undefined);
});
