/**
 * Keys held for exec only (exec unlocked them on a terminal): the store hands them
 * to exec and get, never to a get made for an export; a plain unlock (a put
 * without the flag) makes them ordinary; status says which they are.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../src/daemon/store.ts';
import { parseRequest } from '../../src/daemon/protocol.ts';

const store = () => new Store({
  onChange: () => {},
  canRefresh: () => false,
  refresh: () => Promise.reject(new Error('no refresh')),
  log: () => {},
});

test('an exec-only hold is not there for an export, is for exec/get, and a plain put makes it ordinary', () => {
  const s = store();
  s.put({ A: { value: 'a-value' } }, 60_000, undefined, true);
  s.put({ B: { value: 'b-value' } }, 60_000);
  assert.deepEqual(Object.keys(s.get(['A', 'B'], 'export')), ['B']);
  assert.deepEqual(Object.keys(s.get(['A', 'B'])), ['A', 'B']);
  assert.deepEqual(s.status().map((k) => [k.name, k.execOnly]), [['A', true], ['B', undefined]]);
  s.put({ A: { value: 'a-value' } }, 60_000);
  assert.deepEqual(Object.keys(s.get(['A', 'B'], 'export')), ['A', 'B']);
});

test('the protocol carries purpose, execOnly and program, and refuses anything else in them', () => {
  assert.deepEqual(parseRequest({ id: 1, op: 'get', keys: ['A'], purpose: 'export' }), { id: 1, op: 'get', keys: ['A'], purpose: 'export' });
  assert.deepEqual(parseRequest({ id: 1, op: 'get', keys: ['A'], program: { path: '/bin/sh', argv0: 'sh' } }),
    { id: 1, op: 'get', keys: ['A'], program: { path: '/bin/sh', argv0: 'sh' } });
  assert.deepEqual(parseRequest({ id: 2, op: 'put', ttlMs: 1000, keys: { A: { value: 'v' } }, execOnly: true }),
    { id: 2, op: 'put', ttlMs: 1000, keys: { A: { value: 'v' } }, execOnly: true });
  for (const bad of [
    { id: 3, op: 'get', keys: ['A'], purpose: 'exec' },
    { id: 3, op: 'get', keys: ['A'], program: { path: 7, argv0: 'sh' } },
    { id: 3, op: 'get', keys: ['A'], program: { path: '/bin/sh', argv0: 'x'.repeat(5000) } },
    { id: 3, op: 'put', ttlMs: 1000, keys: {}, execOnly: 'yes' },
    { id: 3, op: 'exec-env', cwd: '/', env: {}, keys: [], program: { path: '/x\0y', argv0: 'x' } },
  ]) assert.ok('error' in parseRequest(bad), JSON.stringify(bad));
});
