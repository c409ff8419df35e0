/**
 * The native fast path (native/keyrack_fast.c + the daemon's `export` op) must
 * print exactly what `keyrack export` prints, and fall back to it whenever the
 * daemon cannot answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, keyrack, run, ROOT, KEYRACK } from '../helpers.ts';

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

  // The audit log has the os.direct value the daemon read from its file, not only the held one.
  const records = readFileSync(join(sb.env.XDG_STATE_HOME!, 'keyrack', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { op: string; keys: string[] });
  const exports = records.filter((r) => r.op === 'export');
  assert.equal(exports.length, 4, 'one record per fast export');
  for (const r of exports) assert.deepEqual([...r.keys].sort(), ['A', 'B']);

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

test('tcsh, elvish and direnv are not on the daemon\'s fast path (yet): keyrack-fast hands them to Node, same answer', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const proj = join(sb.dir, 'proj');
  mkdirSync(proj);
  assert.equal((await keyrack(['init'], { env: sb.env, input: 'pw\n' })).code, 0);
  assert.equal((await keyrack(['set', 'A'], { env: sb.env, input: "it's\nheld!" })).code, 0);
  writeFileSync(join(proj, '.keyrack'), 'A\n');
  assert.equal((await keyrack(['allow', proj], { env: sb.env })).code, 0);
  assert.equal((await keyrack(['unlock'], { env: sb.env, cwd: proj, input: 'pw\n' })).code, 0);
  const env = { ...sb.env, PWD: proj };
  for (const shell of ['tcsh', 'elvish', 'direnv']) {
    // /bin/false as node: the daemon did not answer, so the fallback ran.
    const refused = await fast('/bin/false', shell, env, proj);
    assert.deepEqual([refused.code, refused.stdout], [1, ''], `${shell}: the daemon does not answer it`);
    const slow = await keyrack(['export', shell], { env, cwd: proj });
    assert.equal(slow.code, 0, slow.stderr);
    assert.match(slow.stdout, /\bA\b/);
    assert.deepEqual(await fast(process.execPath, shell, env, proj), slow, `${shell}: Node's answer`);
  }
});

test('without a daemon, export goes to dist/keyrack-export.cjs, with no CA bundle for Node to load; exec keeps it', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const proj = join(sb.dir, 'proj');
  mkdirSync(proj);
  assert.equal((await keyrack(['set', 'B', '--vault', 'os.direct'], { env: sb.env, input: 'direct-b' })).code, 0);
  writeFileSync(join(proj, '.keyrack'), 'B\n');
  assert.equal((await keyrack(['allow', proj], { env: sb.env })).code, 0);
  // Node warns on stderr when it cannot load NODE_EXTRA_CA_CERTS: a visible sign it tried.
  const env = { ...sb.env, PWD: proj, NODE_EXTRA_CA_CERTS: join(sb.dir, 'no-such-bundle.pem') };
  const slow = await keyrack(['export', 'bash'], { env, cwd: proj });
  assert.match(slow.stderr, /Ignoring extra certs/, 'the CLI started by hand still loads it');
  const quick = await fast(process.execPath, 'bash', env, proj);
  assert.equal(quick.code, 0, quick.stderr);
  assert.equal(quick.stdout, slow.stdout);
  assert.equal(quick.stderr, 'keyrack: +B\n', 'same message, and no certificate warning');
  // The single-file entry on its own: the same answer, and the CLI's errors.
  const entryOnly = await run(process.execPath, [join(ROOT, 'dist', 'keyrack-export.cjs'), 'bash'], { env: { ...env, NODE_EXTRA_CA_CERTS: '' }, cwd: proj });
  assert.deepEqual([entryOnly.code, entryOnly.stdout, entryOnly.stderr], [0, slow.stdout, 'keyrack: +B\n']);
  const bad = await run(process.execPath, [join(ROOT, 'dist', 'keyrack-export.cjs'), 'ksh'], { env, cwd: proj });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /keyrack: unknown shell 'ksh' for export/);
  // exec's command may need the bundle: it is left in place.
  const ex = await run(FAST, [process.execPath, KEYRACK, 'exec', '--no-mask', '--', 'sh', '-c', 'printf %s "$NODE_EXTRA_CA_CERTS"'], { env, cwd: proj });
  assert.equal(ex.stdout, env.NODE_EXTRA_CA_CERTS);
});

test('keyrack-fast refuses bad usage', async () => {
  const r = await run(FAST, ['export'], {});
  assert.equal(r.code, 2);
  assert.match(r.stderr, /usage/);
});

test('keyrack-fast exec: the command gets the keys from the daemon and becomes the process; anything else goes to node', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const proj = join(sb.dir, 'proj');
  mkdirSync(proj);
  const hostile = `a'b"c $(x) \`y\` \\ \n\t ü 🔑`;
  assert.equal((await keyrack(['init'], { env: sb.env, input: 'pw\n' })).code, 0);
  assert.equal((await keyrack(['set', 'A'], { env: sb.env, input: hostile })).code, 0);
  assert.equal((await keyrack(['set', 'B', '--vault', 'os.direct'], { env: sb.env, input: 'direct-b' })).code, 0);
  writeFileSync(join(proj, '.keyrack'), 'A\nB\n');
  const env = { ...sb.env, PWD: proj };
  const dump = [process.execPath, '-e', 'process.stdout.write(JSON.stringify({A: process.env.A, B: process.env.B, ppid: process.ppid}))'];

  // Untrusted and nothing unlocked: handed to node (here /bin/false, so exit 1, no output).
  const untrusted = await run(FAST, ['/bin/false', KEYRACK, 'exec', '--no-mask', '--', ...dump], { env, cwd: proj });
  assert.deepEqual([untrusted.code, untrusted.stdout], [1, '']);
  assert.equal((await keyrack(['allow', proj], { env: sb.env })).code, 0);
  assert.equal((await keyrack(['unlock'], { env: sb.env, cwd: proj, input: 'pw\n' })).code, 0);

  const quick = await run(FAST, ['/bin/false', KEYRACK, 'exec', '--no-mask', '--', ...dump], { env, cwd: proj });
  assert.equal(quick.code, 0, quick.stderr);
  const slow = await keyrack(['exec', '--no-mask', '--', ...dump], { env, cwd: proj });
  assert.equal(slow.code, 0, slow.stderr);
  const q = JSON.parse(quick.stdout) as { A: string; B: string };
  assert.deepEqual([q.A, q.B], [hostile, 'direct-b'], 'byte-exact from the daemon');
  const s = JSON.parse(slow.stdout) as { A: string; B: string };
  assert.deepEqual([s.A, s.B], [q.A, q.B], 'the same environment as the Node CLI gives');

  // --key, and the exit status is the command's own (it replaced keyrack-fast).
  const keyed = await run(FAST, ['/bin/false', KEYRACK, 'exec', '--no-mask', '--key', 'B', '--', 'sh', '-c', 'echo "$B ${A-none}"; exit 7'], { env: sb.env, cwd: sb.dir });
  assert.deepEqual([keyed.code, keyed.stdout], [7, 'direct-b none\n']);

  // Unknown options and a command that does not exist go to node for its messages.
  assert.equal((await run(FAST, ['/bin/false', KEYRACK, 'exec', '--bogus', 'true'], { env, cwd: proj })).code, 1);
  const missing = await run(FAST, [process.execPath, KEYRACK, 'exec', '--no-mask', '--', 'no-such-command-kr'], { env, cwd: proj });
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /no-such-command-kr: command not found/);

  // Locked again: node (the real one) says so and exits 2.
  assert.equal((await keyrack(['lock'], { env: sb.env })).code, 0);
  assert.equal((await run(FAST, ['/bin/false', KEYRACK, 'exec', '--no-mask', '--', 'true'], { env, cwd: proj })).code, 1);
  const locked = await run(FAST, [process.execPath, KEYRACK, 'exec', '--no-mask', '--', 'true'], { env, cwd: proj });
  assert.equal(locked.code, 2);
  assert.match(locked.stderr, /A is locked — run keyrack unlock/);

  // Every command other than export/exec is node's at once.
  const version = await run(FAST, [process.execPath, KEYRACK, '--version'], { env });
  assert.match(version.stdout, /^keyrack\/\d/);

  // The daemon recorded what it handed out for exec.
  const audit = readFileSync(join(sb.env.XDG_STATE_HOME!, 'keyrack', 'audit.log'), 'utf8');
  assert.match(audit, /"op":"exec"/);
});
