/**
 * The env diff (env/diff.ts) in-process, driven by a fake source of held values:
 * what a shell must set, unset, keep and forget as it enters, stays in and leaves
 * a project, what it is told, and when the held-values source is asked at all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeExport } from '../../src/env/diff.ts';
import type { HeldGetter } from '../../src/env/scope.ts';
import type { HeldKey } from '../../src/secret.ts';
import { tempEnv } from './fixture.ts';

/** A held-values source over `values` (null: no daemon) that records what it was asked. */
function fakeHeld(values: Record<string, string> | null) {
  const asked: string[][] = [];
  const get: HeldGetter = async (names) => {
    asked.push(names);
    if (values === null) return null;
    const out: Record<string, HeldKey> = {};
    for (const n of names) if (n in values) out[n] = { value: values[n]!, expiresAt: Date.now() + 60_000 };
    return out;
  };
  return { get, asked };
}

function setup() {
  const t = tempEnv();
  t.register({ A: 'os.secure', B: 'os.direct', C: 'os.secure' });
  t.direct({ B: 'bee' });
  const proj = t.project('proj', 'A\nB\nC?\n');
  return { t, proj, away: t.dir }; // no .keyrack there or above
}

test('enter, stay, leave: set what is in scope, stay quiet when nothing changed, unset on leaving', async () => {
  const { t, proj, away } = setup();
  try {
    const held = fakeHeld({ A: 'ay' });
    const enter = await computeExport({ ...t.env }, { dir: proj, getHeld: held.get });
    assert.deepEqual(enter.changes.set, [['A', 'ay'], ['B', 'bee']]);
    assert.deepEqual(enter.changes.save, ['A', 'B']);
    assert.deepEqual(enter.changes.unset, []);
    assert.equal(enter.message, '+A +B');
    assert.ok(enter.changes.stateChanged);
    assert.match(enter.changes.state, /^1 A:[0-9a-f]{16} B:[0-9a-f]{16}$/, 'names and fingerprints only');
    assert.ok(!enter.changes.state.includes('ay') && !enter.changes.state.includes('bee'));
    assert.deepEqual(held.asked, [['A', 'C']], 'asked once, for the held keys only (never the os.direct one)');

    const shell = { ...t.env, A: 'ay', B: 'bee', KEYRACK_STATE: enter.changes.state };
    const stay = await computeExport(shell, { dir: proj, getHeld: held.get });
    assert.deepEqual(stay.changes.set, []);
    assert.equal(stay.changes.stateChanged, false);
    assert.equal(stay.message, '');

    const leave = await computeExport(shell, { dir: away, getHeld: held.get });
    assert.deepEqual(leave.changes.unset, ['A', 'B']);
    assert.equal(leave.changes.state, '');
    assert.equal(leave.message, '-A -B');
  } finally {
    t.cleanup();
  }
});

test('a value changed by hand is the user\'s: kept in scope, forgotten (not unset) on leaving; a value changed in the vault is updated (~)', async () => {
  const { t, proj, away } = setup();
  try {
    const first = await computeExport({ ...t.env }, { dir: proj, getHeld: fakeHeld({ A: 'ay' }).get });
    const edited = { ...t.env, A: 'mine', B: 'bee', KEYRACK_STATE: first.changes.state };
    const stay = await computeExport(edited, { dir: proj, getHeld: fakeHeld({ A: 'ay' }).get });
    assert.deepEqual(stay.changes.set, [], 'the same value as keyrack set last time: left as the user has it');
    const leave = await computeExport(edited, { dir: away, getHeld: fakeHeld({ A: 'ay' }).get });
    assert.deepEqual(leave.changes.unset, ['B']);
    assert.deepEqual(leave.changes.forget, ['A']);
    const rotated = await computeExport({ ...t.env, A: 'ay', B: 'bee', KEYRACK_STATE: first.changes.state }, { dir: proj, getHeld: fakeHeld({ A: 'new' }).get });
    assert.deepEqual(rotated.changes.set, [['A', 'new']]);
    assert.equal(rotated.message, '~A');
  } finally {
    t.cleanup();
  }
});

test('a locked key (or no daemon at all) is a hint, said once; an optional one is silent', async () => {
  const { t, proj } = setup();
  try {
    for (const values of [{}, null]) {
      const held = fakeHeld(values);
      const first = await computeExport({ ...t.env }, { dir: proj, getHeld: held.get });
      assert.deepEqual(first.changes.set, [['B', 'bee']]);
      assert.equal(first.message, '+B; A locked — run keyrack unlock');
      const again = await computeExport({ ...t.env, B: 'bee', KEYRACK_STATE: first.changes.state }, { dir: proj, getHeld: held.get });
      assert.equal(again.message, '', 'the same hint is not said again');
    }
  } finally {
    t.cleanup();
  }
});

test('only os.direct keys: the held-values source is never asked (no socket for such a project)', async () => {
  const t = tempEnv();
  try {
    t.register({ B: 'os.direct' });
    t.direct({ B: 'bee' });
    const proj = t.project('p', 'B\n');
    const held = fakeHeld({});
    const r = await computeExport({ ...t.env }, { dir: proj, getHeld: held.get });
    assert.deepEqual(r.changes.set, [['B', 'bee']]);
    assert.deepEqual(held.asked, []);
  } finally {
    t.cleanup();
  }
});

test('an untrusted manifest sets nothing, asks nothing and says how to allow it', async () => {
  const t = tempEnv();
  try {
    t.register({ A: 'os.secure' });
    const proj = t.project('p', 'A\n', false);
    const held = fakeHeld({ A: 'ay' });
    const r = await computeExport({ ...t.env }, { dir: proj, getHeld: held.get });
    assert.deepEqual(r.changes.set, []);
    assert.deepEqual(held.asked, []);
    assert.equal(r.message, '.keyrack is not allowed — run keyrack allow');
  } finally {
    t.cleanup();
  }
});
