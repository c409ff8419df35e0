/**
 * Without the native module (a copy of the bundle with no native/ build beside
 * it): the daemon refuses to start and says how to fix it, unless the user opts
 * in with KEYRACK_INSECURE_NO_NATIVE=1 — then file permissions are the only
 * protection, and both ends insist that they really are private. The local
 * vaults still work: file locks fall back to util-linux's flock(1).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, run, sandbox, type Sandbox } from '../helpers.ts';
import { spawn } from 'node:child_process';

let copy: string;
let bin: string;
let sb: Sandbox;
const OPT_IN = { KEYRACK_INSECURE_NO_NATIVE: '1' };

const kr = (args: string[], extra: NodeJS.ProcessEnv = {}) => run(process.execPath, [bin, ...args], { env: { ...sb.env, ...extra } });

before(() => {
  copy = mkdtempSync(join(tmpdir(), 'kr-nonative-'));
  cpSync(join(ROOT, 'dist'), join(copy, 'dist'), { recursive: true });
  bin = join(copy, 'dist', 'keyrack.mjs');
  assert.ok(!existsSync('/tmp/native'), 'no stray native/ dir the copy could find');
  sb = sandbox();
  const cfg = join(sb.env.XDG_CONFIG_HOME!, 'keyrack');
  mkdirSync(cfg, { recursive: true, mode: 0o700 });
  writeFileSync(join(cfg, 'registry.json'), JSON.stringify({ version: 1, keys: { A: { vault: 'os.secure' } } }));
});

after(async () => {
  await kr(['daemon', 'stop'], OPT_IN);
  sb.cleanup();
  rmSync(copy, { recursive: true, force: true });
});

test('the daemon refuses to start, naming the fix and the opt-in', async () => {
  let r = await kr(['daemon', 'run']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /native peer-credential module is missing.*install\.sh.*KEYRACK_INSECURE_NO_NATIVE=1/s);
  r = await kr(['daemon', 'start']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /daemon failed to start \(exit 1\): not starting: the native peer-credential module is missing/);
  r = await kr(['doctor'], { KEYRACK_STATE: '' });
  assert.equal(r.code, 2);
  assert.match(r.stdout, /FAIL\s+native peer-credential module/);
});

test('opted in: file permissions only, said so; the client insists on a private directory', async () => {
  let r = await kr(['daemon', 'start'], OPT_IN);
  assert.equal(r.code, 0, r.stderr);
  r = await kr(['status', '--json'], OPT_IN);
  const st = JSON.parse(r.stdout) as { socket: string; daemon: { check: string; mode: string; dumpable: boolean | null } };
  assert.match(st.daemon.check, /socket file permissions only/);
  assert.equal(st.daemon.mode, 'uid-only');
  assert.equal(st.daemon.dumpable, null);

  // Put a value in with a raw client, read it back through the CLI.
  await new Promise<void>((resolve, reject) => {
    const s = createConnection(st.socket);
    s.once('data', () => s.write(JSON.stringify({ id: 1, op: 'put', ttlMs: 60_000, keys: { A: { value: 'alpha' } } }) + '\n'));
    s.on('data', (d) => { if (String(d).includes('"ok":true')) { s.destroy(); resolve(); } });
    s.on('error', reject);
  });
  r = await kr(['get', 'A'], OPT_IN);
  assert.equal(r.stdout, 'alpha\n', r.stderr);

  // A client that did not opt in will not talk without a kernel check.
  r = await kr(['get', 'A']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot check the daemon's socket/);

  // A directory others can write to could hold anyone's socket: refused.
  chmodSync(sb.env.XDG_RUNTIME_DIR!, 0o777);
  r = await kr(['get', 'A'], OPT_IN);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /directory is not private to you/);

  // And the daemon will not start in one.
  chmodSync(sb.env.XDG_RUNTIME_DIR!, 0o700);
  assert.equal((await kr(['daemon', 'stop'], OPT_IN)).code, 0);
  chmodSync(sb.env.XDG_RUNTIME_DIR!, 0o777);
  r = await kr(['daemon', 'run'], OPT_IN);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /directory is not private to you/);
  assert.ok(!existsSync(st.socket), 'it left no socket behind');
  chmodSync(sb.env.XDG_RUNTIME_DIR!, 0o700);
});

test('the local vaults work without it: init, set, get; the registry lock is a real flock', async () => {
  const local = sandbox();
  const k = (args: string[], input?: string) => run(process.execPath, [bin, ...args], { env: local.env, input });
  let holder: ReturnType<typeof spawn> | undefined;
  try {
    assert.equal((await k(['init'], 'pw\n')).code, 0);
    let r = await k(['set', 'S1'], 'secure value');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await k(['set', 'D1', '--vault', 'os.direct'], 'direct value')).code, 0);
    assert.equal((await k(['get', 'D1'])).stdout, 'direct value\n');

    // Another process holds the registry lock (flock(1), as a user's script might):
    // set must wait for it, which only a real flock on the same file makes it do.
    const lockFile = join(local.env.XDG_CONFIG_HOME!, 'keyrack', 'registry.lock');
    const marker = join(local.dir, 'letting-go');
    holder = spawn('flock', ['-x', lockFile, 'sh', '-c', 'echo held; sleep 2; : > "$0"', marker], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder!.stdout!.once('data', () => resolve()));
    r = await k(['set', 'D2', '--vault', 'os.direct'], 'second');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(marker), 'set finished only after the holder was letting go of the lock');
    r = await k(['list', '--json']);
    assert.deepEqual((JSON.parse(r.stdout) as { keys: Array<{ name: string }> }).keys.map((x) => x.name), ['D1', 'D2', 'S1']);
  } finally {
    if (holder && holder.exitCode === null) await new Promise((resolve) => holder!.once('close', resolve));
    local.cleanup();
  }
});
