/**
 * The native fast path (native/keyrack_fast.c + the daemon's `export` op) must
 * print exactly what `keyrack export` prints, and fall back to it whenever the
 * daemon cannot answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, keyrack, run, ROOT, KEYRACK } from './helpers.ts';

const FAST = join(ROOT, 'native', 'build', 'Release', 'keyrack-fast');

function fast(node: string, shell: string, env: NodeJS.ProcessEnv, cwd: string) {
  return run(FAST, [node, KEYRACK, 'export', shell], { env, cwd });
}

test('keyrack-fast answers exactly as keyrack export, from the daemon, and falls back without one', async (t) => {
  assert.ok(existsSync(FAST), `${FAST} is missing: npm run build:native`);
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const proj = join(sb.dir, 'proj');
  const other = join(sb.dir, 'other');
  mkdirSync(proj);
  mkdirSync(other);
  const hostile = `it's "q" $(touch /tmp/pwned) \`x\` \\ \n\r\t\x1b[31m ünï 🔑 ${'x'.repeat(3000)}`;
  assert.equal((await keyrack(['init'], { env: sb.env, input: 'pw\n' })).code, 0);
  assert.equal((await keyrack(['set', 'A'], { env: sb.env, input: hostile })).code, 0);
  assert.equal((await keyrack(['set', 'B', '--vault', 'os.direct'], { env: sb.env, input: 'direct-b' })).code, 0);
  writeFileSync(join(proj, '.keyrack'), 'A\nB\nC?\n');
  assert.equal((await keyrack(['allow', proj], { env: sb.env })).code, 0);

  // No daemon yet: the fast client hands over to node, which says A is locked.
  const env = { ...sb.env, PWD: proj };
  const slow0 = await keyrack(['export', 'bash'], { env, cwd: proj });
  const fast0 = await fast(process.execPath, 'bash', env, proj);
  assert.deepEqual(fast0, slow0);
  assert.match(fast0.stderr, /A locked/);

  assert.equal((await keyrack(['unlock'], { env: sb.env, cwd: proj, input: 'pw\n' })).code, 0);
  for (const shell of ['bash', 'zsh', 'fish', 'json']) {
    const slow = await keyrack(['export', shell], { env, cwd: proj });
    // /bin/false as node: any fallback would print nothing and exit 1.
    const quick = await fast('/bin/false', shell, env, proj);
    assert.equal(quick.code, 0, `${shell}: the daemon answered (${quick.stderr})`);
    assert.deepEqual(quick, slow, `${shell}: same answer as keyrack export`);
    assert.match(quick.stderr, /\+A \+B/);
    if (shell === 'json') {
      const j = JSON.parse(quick.stdout) as { set: Record<string, string> };
      assert.equal(j.set.A, hostile, 'the value survives JSON both ways, byte-exact');
    }
  }

  // With the state the shell now has: nothing to do; then leaving the project.
  const first = JSON.parse((await fast('/bin/false', 'json', env, proj)).stdout) as { state: string };
  const loaded = { ...env, A: hostile, B: 'direct-b', KEYRACK_STATE: first.state };
  for (const [cwd, label] of [[proj, 'unchanged'], [other, 'leaving']] as const) {
    const e = { ...loaded, PWD: cwd };
    const slow = await keyrack(['export', 'bash'], { env: e, cwd });
    const quick = await fast('/bin/false', 'bash', e, cwd);
    assert.equal(quick.code, 0);
    assert.deepEqual(quick, slow, label);
  }
  const leave = await fast('/bin/false', 'bash', { ...loaded, PWD: other }, other);
  assert.match(leave.stdout, /unset A|__keyrack_prev_A/);
  assert.match(leave.stderr, /-A -B/);

  // An environment value that is not UTF-8 cannot cross JSON: left out, still answered.
  const odd = await run('sh', ['-c', `X=$(printf '\\377') exec "$0" /bin/false "$1" export bash`, FAST, KEYRACK], { env, cwd: proj });
  assert.equal(odd.code, 0, odd.stderr);
});

test('keyrack-fast refuses bad usage', async () => {
  const r = await run(FAST, ['export'], {});
  assert.equal(r.code, 2);
  assert.match(r.stderr, /usage/);
});
