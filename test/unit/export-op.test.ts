/**
 * The daemon's fast-path answers (daemon/export-op.ts) in-process, with the store
 * stood in for by a function: what they hand out, when exec says "code 2, let the
 * CLI say why", and that a bug is never passed off as such a refusal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerFast } from '../../src/daemon/export-op.ts';
import type { HeldKey } from '../../src/secret.ts';
import { tempEnv } from './fixture.ts';

const held = (values: Record<string, string>) => (names: string[]): Record<string, HeldKey> =>
  Object.fromEntries(names.filter((n) => n in values).map((n) => [n, { value: values[n]!, expiresAt: Date.now() + 60_000 }]));

function project() {
  const t = tempEnv();
  t.register({ A: 'os.secure', B: 'os.direct' });
  t.direct({ B: 'bee' });
  const dir = t.project('p', 'A\nB\n');
  return { t, dir, env: { ...t.env, PWD: dir } as Record<string, string> };
}

test('exec-env: every key there → code 0 and the variables; held and os.direct keys are both counted as handed out', async () => {
  const { t, dir, env } = project();
  try {
    const r = await answerFast({ id: 1, op: 'exec-env', cwd: dir, env, keys: [] }, held({ A: 'ay' }));
    assert.deepEqual(r.fields, { code: 0, vars: { A: 'ay', B: 'bee' } });
    assert.equal(r.audit, 'exec');
    assert.deepEqual([...r.handed].sort(), ['A', 'B']);
  } finally {
    t.cleanup();
  }
});

test('exec-env: a locked key or an untrusted manifest → code 2, no variables, nothing handed out', async () => {
  const { t, dir, env } = project();
  try {
    const locked = await answerFast({ id: 1, op: 'exec-env', cwd: dir, env, keys: [] }, held({}));
    assert.deepEqual(locked, { audit: 'exec', handed: [], fields: { code: 2, vars: {} } });
    const other = t.project('q', 'A\n', false);
    const untrusted = await answerFast({ id: 2, op: 'exec-env', cwd: other, env: { ...env, PWD: other }, keys: [] }, held({ A: 'ay' }));
    assert.deepEqual(untrusted, { audit: 'exec', handed: [], fields: { code: 2, vars: {} } });
  } finally {
    t.cleanup();
  }
});

test('exec-env: a bug (not a refusal the user must act on) rejects, for the server to log, instead of passing for code 2', async () => {
  const { t, dir, env } = project();
  try {
    const broken = () => { throw new TypeError('store exploded'); };
    await assert.rejects(answerFast({ id: 1, op: 'exec-env', cwd: dir, env, keys: [] }, broken), /store exploded/);
  } finally {
    t.cleanup();
  }
});

test('export: the answer keyrack export would print, from the same engine', async () => {
  const { t, dir, env } = project();
  try {
    const r = await answerFast({ id: 1, op: 'export', shell: 'json', cwd: dir, env }, held({ A: 'ay' }));
    assert.equal(r.audit, 'export');
    assert.equal(r.fields.code, 0);
    assert.equal(r.fields.stderr, 'keyrack: +A +B\n');
    const out = JSON.parse(r.fields.stdout) as { set: Record<string, string> };
    assert.deepEqual(out.set, { A: 'ay', B: 'bee' });
  } finally {
    t.cleanup();
  }
});
