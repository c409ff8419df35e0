/**
 * The daemon's idle exit (src/daemon/lifecycle.ts) on mocked timers: a minute
 * with nothing held and nobody connected, half an hour once a hook asked for an
 * export, restarted by every export; never while a key is held. And the one full
 * collection after a burst of connections (src/daemon/burst-gc.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { BURST_CONNECTIONS, BurstGc, QUIET_MS } from '../../src/daemon/burst-gc.ts';
import { HOOKED_IDLE_EXIT_MS, IDLE_EXIT_MS, Lifecycle } from '../../src/daemon/lifecycle.ts';

function life(held = 0) {
  const lines: string[] = [];
  const l = new Lifecycle({
    stopListening: () => {}, store: { size: held, clear: () => {} }, log: (x) => lines.push(x), bump: () => {}, closeFiles: () => {}, shared: false,
  });
  return { l, lines };
}

test('idle exit: a minute unhooked, half an hour after an export, each export restarting it; never with keys held', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const exits: number[] = [];
  t.mock.method(process, 'exit', ((code: number) => { exits.push(code); }) as never);

  const plain = life();
  plain.l.armIdle();
  t.mock.timers.tick(IDLE_EXIT_MS - 1);
  assert.equal(exits.length, 0);
  t.mock.timers.tick(1);
  assert.deepEqual(exits, [0], 'unhooked: exits after a minute');
  assert.match(plain.lines.join('\n'), /idle and empty for 60s/);

  const hooked = life();
  hooked.l.armIdle();
  hooked.l.hookAsked();
  t.mock.timers.tick(IDLE_EXIT_MS * 5);
  assert.equal(exits.length, 1, 'hooked: still there after five minutes');
  hooked.l.hookAsked(); // another export
  t.mock.timers.tick(HOOKED_IDLE_EXIT_MS - 1);
  assert.equal(exits.length, 1, 'each export restarts the wait');
  t.mock.timers.tick(1);
  assert.equal(exits.length, 2, 'hooked: exits after half an hour without an export');

  const holding = life(1);
  holding.l.hookAsked();
  t.mock.timers.tick(HOOKED_IDLE_EXIT_MS * 2);
  assert.equal(exits.length, 2, 'never while a key is held (keys expire by themselves)');
});

test('after a burst of connections, one full collection once the last has closed and the daemon was quiet; none for a few', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let collections = 0;
  const l = new Lifecycle({
    stopListening: () => {}, store: { size: 1, clear: () => {} }, log: () => {}, bump: () => {}, closeFiles: () => {}, shared: false,
    gc: new BurstGc(() => { collections++; }),
  });
  const sockets = (n: number) => Array.from({ length: n }, () => {
    const s = new EventEmitter() as unknown as Socket;
    l.track(s);
    return s;
  });
  const few = sockets(3);
  for (const s of few) s.emit('close');
  t.mock.timers.tick(QUIET_MS * 10);
  assert.equal(collections, 0, 'three connections are no burst');

  const burst = sockets(BURST_CONNECTIONS);
  for (const s of burst.slice(1)) s.emit('close');
  t.mock.timers.tick(QUIET_MS * 10);
  assert.equal(collections, 0, 'not while one of the burst is still open');
  burst[0]!.emit('close');
  t.mock.timers.tick(QUIET_MS - 1);
  assert.equal(collections, 0);
  const late = sockets(1)[0]!;
  t.mock.timers.tick(QUIET_MS * 10);
  assert.equal(collections, 0, 'a new connection within the quiet time puts it off');
  late.emit('close');
  t.mock.timers.tick(QUIET_MS);
  assert.equal(collections, 1, 'one collection once quiet');
  for (const s of sockets(3)) s.emit('close');
  t.mock.timers.tick(QUIET_MS * 10);
  assert.equal(collections, 1, 'the count starts again after it');
});
