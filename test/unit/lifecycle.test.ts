/**
 * The daemon's idle exit (src/daemon/lifecycle.ts) on mocked timers: a minute
 * with nothing held and nobody connected, half an hour once a hook asked for an
 * export, restarted by every export; never while a key is held.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
