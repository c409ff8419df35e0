/**
 * `keyrack exec`: the child's environment, exit status, signals (forwarded, and
 * not doubled on a terminal), stdio passed through, and exit 2 with a hint when
 * the manifest is untrusted or a key is locked.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { KEYRACK, keyrack, requireTool, sandbox } from '../helpers.ts';
import { Pty } from '../pty.ts';

const sb = sandbox();
after(() => sb.cleanup());
const proj = join(sb.dir, 'proj');
const untrusted = join(sb.dir, 'untrusted');
const locked = join(sb.dir, 'locked');
const canary = join(sb.dir, 'ran');
const TOKEN = "tok'en $(x)\nline2 ✓";

const ready = (async () => {
  for (const d of [proj, untrusted, locked]) mkdirSync(d);
  const ok = async (args: string[], input = '') => {
    const r = await keyrack(args, { env: sb.env, input });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  };
  await ok(['init'], 'pass phrase\n');
  await ok(['set', 'TOKEN', '--vault', 'os.direct'], `${TOKEN}\n`);
  await ok(['set', 'npm-publish', '--vault', 'os.direct'], 'npm\n');
  await ok(['set', 'SEALED'], 'sealed\n'); // os.secure, locked until unlock
  writeFileSync(join(proj, '.keyrack'), 'TOKEN\nNPM_TOKEN = npm-publish\nOPTIONAL?\n');
  writeFileSync(join(untrusted, '.keyrack'), 'TOKEN\n');
  writeFileSync(join(locked, '.keyrack'), 'TOKEN\nSEALED\n');
  await ok(['allow', proj]);
  await ok(['allow', locked]);
})();

function envOf(out: Buffer): Map<string, string> {
  return new Map(out.toString('utf8').split('\0').filter(Boolean).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

/** Runs keyrack exec with raw stdout; `detached` gives it no controlling terminal. */
function exec(args: string[], cwd: string, input = ''): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [KEYRACK, 'exec', '--no-mask', ...args], { cwd, env: { ...sb.env, PWD: cwd, OTHER: 'kept' }, detached: true });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdin.end(input);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr }));
  });
}

test('the child gets the manifest\'s keys byte-exact plus the caller\'s environment; stdin passes through', async () => {
  await ready;
  const r = await exec(['--', 'env', '-0'], proj);
  assert.equal(r.code, 0, r.stderr);
  const env = envOf(r.stdout);
  assert.equal(env.get('TOKEN'), TOKEN);
  assert.equal(env.get('NPM_TOKEN'), 'npm');
  assert.equal(env.get('OTHER'), 'kept');
  assert.equal(env.has('OPTIONAL'), false);
  assert.equal(r.stderr, '');
  const cat = await exec(['cat'], proj, 'through stdin\n');
  assert.equal(cat.stdout.toString(), 'through stdin\n');
});

test('--key picks keys anywhere, with aliases; options after the command belong to it', async () => {
  await ready;
  const r = await exec(['--key', 'TOKEN', '--key', 'NPM=npm-publish', 'sh', '-c', 'printf %s "$NPM" "$1"', 'sh', '--key'], sb.dir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString(), 'npm--key');
});

test('--help after the command is the command\'s; before it, exec\'s own', async () => {
  await ready;
  const r = await exec(['--key', 'TOKEN', 'sh', '-c', 'printf "%s" "$1"', 'sh', '--help'], sb.dir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString(), '--help');
  const own = await exec(['--help'], sb.dir);
  assert.equal(own.code, 0);
  assert.match(own.stdout.toString(), /^usage: keyrack exec \[--key K\]… \[--mask\|--no-mask\] \[--\] CMD/);
});

test('exit status is the command\'s; 128+n when a signal killed it; 127 when not found', async () => {
  await ready;
  assert.equal((await exec(['sh', '-c', 'exit 42'], proj)).code, 42);
  assert.equal((await exec(['sh', '-c', 'kill -TERM $$'], proj)).code, 128 + 15);
  const nf = await exec(['no-such-command-kr'], proj);
  assert.equal(nf.code, 127);
  assert.match(nf.stderr, /no-such-command-kr: command not found/);
});

for (const sig of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
  test(`${sig} sent to keyrack reaches the command`, async () => {
    await ready;
    const child = spawn(process.execPath, [KEYRACK, 'exec', '--no-mask', '--', 'sh', '-c',
      // Bounded, so a keyrack that dies without passing the signal on leaves no orphan.
      `trap 'echo got-${sig}; exit 3' ${sig.slice(3)}; echo ready; i=0; while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done`],
    { cwd: proj, env: { ...sb.env, PWD: proj }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const code = new Promise<number>((r) => child.on('exit', (c, s) => r(c ?? 128 + (s ? 100 : 0))));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (d.includes('ready')) child.kill(sig);
    });
    assert.equal(await code, 3);
    assert.match(out, new RegExp(`got-${sig}`));
  });
}

test('Ctrl-C on a terminal reaches the command once, not twice', async (t) => {
  if (!requireTool('python3')) return t.skip('python3 missing');
  await ready;
  const py = 'import signal,sys,time\nn=[0]\ndef h(*a): n[0]+=1\nsignal.signal(signal.SIGINT,h)\nprint("ready",flush=True)\nwhile n[0]==0: time.sleep(0.01)\ntime.sleep(0.5)\nprint("sigints=%d"%n[0],flush=True)\n';
  const pty = new Pty([process.execPath, KEYRACK, 'exec', '--no-mask', '--', 'python3', '-c', py], { cwd: proj, env: { ...sb.env, PWD: proj } });
  await pty.expect('ready');
  pty.write('\x03');
  await pty.expect('sigints=1');
  assert.equal(await pty.exited, 0);
});

test('untrusted manifest: exit 2 with the allow hint, the command does not run', async () => {
  await ready;
  const r = await exec(['touch', canary], untrusted);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /keyrack: .*\.keyrack is untrusted — run keyrack allow/);
  assert.equal(existsSync(canary), false);
});

test('locked key without a terminal: exit 2 with the unlock hint, the command does not run', async () => {
  await ready;
  const r = await exec(['touch', canary], locked);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'keyrack: SEALED is locked — run keyrack unlock\n');
  assert.equal(existsSync(canary), false);
});

test('no manifest and no --key, or an unknown key: exit 2 and say what to do', async () => {
  await ready;
  const none = await exec(['true'], sb.dir);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no \.keyrack in .* — name keys with --key K/);
  const absent = await exec(['--key', 'NOPE', 'true'], sb.dir);
  assert.equal(absent.code, 2);
  assert.match(absent.stderr, /NOPE is absent — run keyrack set NOPE/);
});

// Last: it unlocks SEALED for the rest of this sandbox's life.
test('locked key on a terminal: exec unlocks it (one passphrase prompt), then the command runs with the TTY', async (t) => {
  if (!requireTool('python3')) return t.skip('python3 missing');
  await ready;
  const py = 'import os,sys\nprint("got", os.environ.get("SEALED"), flush=True)\nprint("read", sys.stdin.readline().strip(), flush=True)\n';
  const pty = new Pty([process.execPath, KEYRACK, 'exec', '--no-mask', '--', 'python3', '-c', py], { cwd: locked, env: { ...sb.env, PWD: locked } });
  await pty.expect('SEALED is locked — unlocking');
  await pty.expect(/passphrase/i);
  pty.write('pass phrase\r');
  await pty.expect('got sealed');
  pty.write('typed at the terminal\r');
  await pty.expect('read typed at the terminal');
  assert.equal(await pty.exited, 0);
  assert.equal(pty.output.includes('pass phrase'), false, 'the passphrase is not echoed');
});
