/**
 * The env diff (env/diff.ts) in-process, driven by a fake source of held values:
 * what a shell must set, unset, keep and forget as it enters, stays in and leaves
 * a project, what it is told, and when the held-values source is asked at all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { computeExport } from '../../src/env/diff.ts';
import { files } from '../../src/paths.ts';
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
    assert.match(enter.changes.state, /^1 @[0-9a-f]{8} A:[0-9a-f]{16} B:[0-9a-f]{16}$/, 'the key id, names and fingerprints only');
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
    assert.equal(r.message, '.keyrack is untrusted — run keyrack allow');
  } finally {
    t.cleanup();
  }
});

/** Enters `proj` and returns the shell as it is inside: its env with the values and the state. */
async function inside(t: ReturnType<typeof setup>['t'], proj: string, extra: NodeJS.ProcessEnv = {}) {
  const enter = await computeExport({ ...t.env, ...extra }, { dir: proj, getHeld: fakeHeld({ A: 'ay' }).get });
  return { ...t.env, ...extra, A: 'ay', B: 'bee', KEYRACK_STATE: enter.changes.state };
}

test('the fingerprint key replaced (data dir removed): leaving removes what keyrack set anyway, and says so', async () => {
  const { t, proj, away } = setup();
  try {
    const shell = await inside(t, proj, { A: 'mine before' });
    rmSync(files.fingerprintKey(t.env));
    const leave = await computeExport(shell, { dir: away, getHeld: fakeHeld({}).get });
    assert.deepEqual(leave.changes.unset, ['A', 'B'], 'removed although the fingerprints cannot be checked (A: its saved value comes back)');
    assert.equal(leave.changes.state, '');
    assert.match(leave.message, /^-A -B; the fingerprint key \S+fingerprint\.key was replaced since keyrack set A B: removed them without checking for a change by hand$/);
    // Staying in the project under a new key: recorded again, not re-set, nothing said.
    const stay = await computeExport({ ...shell, PWD: proj }, { dir: proj, getHeld: fakeHeld({ A: 'ay' }).get });
    assert.deepEqual([stay.changes.set, stay.changes.unset, stay.message], [[], [], '']);
    assert.notEqual(stay.changes.state, shell.KEYRACK_STATE, 'the new key\'s id and fingerprints');
  } finally {
    t.cleanup();
  }
});

test('a fingerprint key that cannot be used: nothing is loaded, what keyrack set is removed, and the line says why', async () => {
  const { t, proj, away } = setup();
  try {
    const shell = await inside(t, proj);
    writeFileSync(files.fingerprintKey(t.env), 'short');
    for (const dir of [away, proj]) {
      const r = await computeExport(shell, { dir, getHeld: fakeHeld({ A: 'ay' }).get });
      assert.deepEqual([r.changes.set, r.changes.unset, r.changes.state], [[], ['A', 'B'], ''], dir);
      assert.match(r.message, /^-A -B; .*fingerprint\.key is not a 32-byte key.* — removed A B without checking for a change by hand/, dir);
    }
    const fresh = await computeExport({ ...t.env }, { dir: proj, getHeld: fakeHeld({ A: 'ay' }).get });
    assert.deepEqual(fresh.changes.set, []);
    assert.match(fresh.message, /is not a 32-byte key.* — nothing loaded/);
  } finally {
    t.cleanup();
  }
});

test('KEYRACK_STATE edited by hand: a name without a readable fingerprint is removed; what cannot be read at all is said', async () => {
  const { t, away } = setup();
  try {
    const r = await computeExport({ ...t.env, A: 'ay', KEYRACK_STATE: '1 A:zz' }, { dir: away, getHeld: fakeHeld({}).get });
    assert.deepEqual(r.changes.unset, ['A']);
    assert.match(r.message, /^-A; /);
    const junk = await computeExport({ ...t.env, KEYRACK_STATE: 'garbage from somewhere' }, { dir: away, getHeld: fakeHeld({}).get });
    assert.match(junk.message, /^KEYRACK_STATE has 3 unreadable entries: keyrack cannot tell all it set in this shell/);
  } finally {
    t.cleanup();
  }
});

test('the state lost while the values stay: re-entering does not save keyrack\'s own value as the shell\'s, so leaving removes it', async () => {
  const { t, proj, away } = setup();
  try {
    const lost = { ...t.env, A: 'ay', B: 'bee' }; // KEYRACK_STATE gone, the values still there
    const enter = await computeExport(lost, { dir: proj, getHeld: fakeHeld({ A: 'ay' }).get });
    assert.deepEqual(enter.changes.save, [], 'nothing to save: these are keyrack\'s values');
    assert.deepEqual(enter.changes.forget, ['A', 'B'], 'and no stale saved copy is kept either');
    const leave = await computeExport({ ...lost, KEYRACK_STATE: enter.changes.state }, { dir: away, getHeld: fakeHeld({}).get });
    assert.deepEqual(leave.changes.unset, ['A', 'B']);
  } finally {
    t.cleanup();
  }
});

test('a registry that breaks while in a project unloads its keys (exit 2) rather than leaving them in the shell', async () => {
  const { t, proj } = setup();
  try {
    const shell = await inside(t, proj);
    writeFileSync(files.registry(t.env), '{ not json');
    const r = await computeExport(shell, { dir: proj, getHeld: fakeHeld({ A: 'ay' }).get });
    assert.deepEqual(r.changes.unset, ['A', 'B']);
    assert.equal(r.code, 2);
    assert.match(r.message, /^-A -B; \S+registry\.json is not valid JSON.* — so this directory's keys are not loaded$/);
  } finally {
    t.cleanup();
  }
});

test('keys never set: one line for all of them, with did you mean, said once — not again when another hint changes', async () => {
  const t = tempEnv();
  try {
    t.register({ GITHUB_TOKEN: 'os.secure', B: 'os.direct' });
    t.direct({ B: 'bee' });
    const proj = t.project('p', 'GITHUB_TOKN\nX1\nX2\nGITHUB_TOKEN\nB\n');
    const first = await computeExport({ ...t.env }, { dir: proj, getHeld: fakeHeld({}).get });
    assert.equal(first.message, '+B; GITHUB_TOKEN locked — run keyrack unlock; ' +
      '3 keys absent (GITHUB_TOKN, X1, X2) — run keyrack set KEY; did you mean GITHUB_TOKEN for GITHUB_TOKN?');
    const unlocked = await computeExport({ ...t.env, B: 'bee', KEYRACK_STATE: first.changes.state }, { dir: proj, getHeld: fakeHeld({ GITHUB_TOKEN: 'gh' }).get });
    assert.equal(unlocked.message, '+GITHUB_TOKEN', 'the absent keys were said already');
    const locked = await computeExport({ ...t.env, B: 'bee', GITHUB_TOKEN: 'gh', KEYRACK_STATE: unlocked.changes.state }, { dir: proj, getHeld: fakeHeld({}).get });
    assert.equal(locked.message, '-GITHUB_TOKEN; GITHUB_TOKEN locked — run keyrack unlock');
  } finally {
    t.cleanup();
  }
});
