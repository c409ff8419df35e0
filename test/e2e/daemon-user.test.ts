/**
 * The user-wide daemon (what the systemd user unit runs): a daemon without an
 * audit session, started with KEYRACK_USER_DAEMON=1, serves shells of any login
 * session whose own session has no daemon — and wakes their hooks — but only when
 * the user opted in on the client side ($XDG_CONFIG_HOME/keyrack/user-daemon), never
 * on the daemon's word. A uid-only daemon started without it is never used by a
 * shell that has a session.
 * Root makes the sessions (writing /proc/self/loginuid starts a fresh one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KEYRACK, ROOT, keyrack, run, sandbox, type Sandbox, needsRoot } from '../helpers.ts';

const PROBE = join(ROOT, 'test', 'sockets', 'probe.mjs');

function registerKey(sb: Sandbox, name: string): void {
  const dir = join(sb.env.XDG_CONFIG_HOME!, 'keyrack');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'registry.json'), JSON.stringify({ version: 1, keys: { [name]: { vault: 'os.secure' } } }), { mode: 0o600 });
}

/** Runs a script in a fresh audit session (sh; $K is keyrack, $NODE node). */
function inSession(sb: Sandbox, script: string, env: NodeJS.ProcessEnv = {}) {
  return run('sh', ['-c', `echo 1000 > /proc/self/loginuid || exit 99\n${script}`], { env: { ...sb.env, NODE: process.execPath, K: KEYRACK, FAST: join(ROOT, 'native', 'build', 'Release', 'keyrack-fast'), ...env } });
}

/** The user's opt-in to the user-wide daemon (docs/systemd.md). */
function optIn(sb: Sandbox): string {
  const dir = join(sb.env.XDG_CONFIG_HOME!, 'keyrack');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'user-daemon');
  writeFileSync(file, '', { mode: 0o644 });
  return file;
}

async function waitFor(path: string): Promise<void> {
  for (let i = 0; i < 500 && !existsSync(path); i++) await sleep(20);
  assert.ok(existsSync(path), `${path} appeared`);
}

test('a shell in a login session uses the user-wide daemon when its session has none and the user opted in', { skip: needsRoot('needs root to create audit sessions') }, async () => {
  const sb = sandbox();
  // A real os.secure key (identity and file), so doctor has nothing to fail on but the daemon's warning.
  assert.equal((await keyrack(['init'], { env: sb.env, input: 'pw\n' })).code, 0);
  assert.equal((await keyrack(['set', 'A'], { env: sb.env, input: 'alpha\n' })).code, 0);
  optIn(sb);
  const userSock = join(sb.env.XDG_RUNTIME_DIR!, 'keyrack.u0.sock');
  // As systemd --user would: no session, in the foreground, the flag set.
  const daemon = spawn(process.execPath, [KEYRACK, 'daemon', 'run'], { env: { ...sb.env, KEYRACK_USER_DAEMON: '1' }, stdio: 'ignore', detached: true });
  try {
    await waitFor(userSock);
    const put = await run(process.execPath, [PROBE, userSock, JSON.stringify({ id: 1, op: 'put', ttlMs: 600_000, keys: { A: { value: 'alpha' } } })], {});
    assert.match(put.stdout, /"shared":true/);
    assert.match(put.stdout, /"ok":true/);

    const proj = join(sb.dir, 'proj');
    mkdirSync(proj);
    writeFileSync(join(proj, '.keyrack'), 'A\n');
    assert.equal((await keyrack(['allow', proj], { env: sb.env })).code, 0);
    const r = await inSession(sb, `
      S=$(cat /proc/self/sessionid)
      echo "session $S"
      "$NODE" "$K" status --json > "$XDG_RUNTIME_DIR/status.json" || exit 98
      "$NODE" "$K" get A || exit 97
      # The hook's native client finds the shared daemon too (/bin/false: no node fallback).
      (cd "${proj}" && "$FAST" /bin/false "$K" export bash; echo "fast: $?")
      G="$XDG_RUNTIME_DIR/keyrack.$S.gen"
      before=$(cat "$G" 2>/dev/null)
      "$NODE" "$K" lock A 2>/dev/null || exit 96
      after=$(cat "$G" 2>/dev/null)
      [ -n "$after" ] && [ "$after" != "$before" ] && echo "hooks woken"
      "$NODE" "$K" get A; echo "get after lock: $?"
      KEYRACK_STATE= "$NODE" "$K" doctor; echo "doctor: $?"
      "$NODE" "$K" daemon start`);
    assert.equal(r.code, 0, r.stderr);
    const session = Number(/^session (\d+)$/m.exec(r.stdout)![1]);
    const st = JSON.parse(readFileSync(join(sb.env.XDG_RUNTIME_DIR!, 'status.json'), 'utf8')) as { session: number; socket: string; daemon: { pid: number; mode: string; shared: boolean; verified: string } };
    assert.equal(st.session, session);
    assert.equal(st.daemon.pid, daemon.pid);
    assert.equal(st.daemon.mode, 'uid-only');
    assert.equal(st.daemon.shared, true);
    assert.equal(st.socket, userSock);
    assert.equal(st.daemon.verified, 'user-wide, uid-only', 'status says how this client checked it');
    assert.match(r.stdout, /^alpha$/m);
    assert.match(r.stdout, /^export A='alpha'$/m);
    assert.match(r.stdout, /^fast: 0$/m);
    assert.match(r.stdout, /^hooks woken$/m, 'a change bumps the generation file of the session that used it');
    assert.match(r.stdout, /^get after lock: 2$/m);
    assert.match(r.stdout, /warn\s+the user-wide daemon \(pid \d+ on .*keyrack\.u0\.sock, KEYRACK_USER_DAEMON=1\) serves this shell in session \d+: it checks only your uid/);
    assert.match(r.stdout, /^doctor: 0$/m, 'a warning, not a failure');
    assert.match(r.stderr, /daemon already running \(pid \d+, user-wide: every session of your uid\)/);
    assert.ok(!existsSync(join(sb.env.XDG_RUNTIME_DIR!, `keyrack.${session}.sock`)), 'no session daemon was started');

    // The audit log names the caller's own session, as the kernel reports it.
    const audit = readFileSync(join(sb.env.XDG_STATE_HOME!, 'keyrack', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { op: string; session: number | null });
    assert.deepEqual(audit.filter((a) => a.op === 'get').map((a) => a.session), [session]);
    // It does not exit when idle and empty, as an on-demand daemon would.
    assert.match(readFileSync(join(sb.env.XDG_STATE_HOME!, 'keyrack', 'daemon.log'), 'utf8'), /user-wide \(KEYRACK_USER_DAEMON=1\): serves every login session of uid 0, never exits when idle/);
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
    sb.cleanup();
  }
});

test('a uid-only daemon started without KEYRACK_USER_DAEMON is not used from a login session', { skip: needsRoot('needs root to create audit sessions') }, async () => {
  const sb = sandbox();
  registerKey(sb, 'A');
  try {
    // On demand from a process without a session: uid-only, not shared (the flag never reaches it).
    assert.equal((await keyrack(['daemon', 'start'], { env: { ...sb.env, KEYRACK_USER_DAEMON: '1' } })).code, 0);
    const userSock = join(sb.env.XDG_RUNTIME_DIR!, 'keyrack.u0.sock');
    const put = await run(process.execPath, [PROBE, userSock, JSON.stringify({ id: 1, op: 'put', ttlMs: 600_000, keys: { A: { value: 'alpha' } } })], {});
    assert.doesNotMatch(put.stdout, /"shared"/);

    const proj = join(sb.dir, 'proj');
    mkdirSync(proj);
    writeFileSync(join(proj, '.keyrack'), 'A\n');
    assert.equal((await keyrack(['allow', proj], { env: sb.env })).code, 0);
    const r = await inSession(sb, `
      (cd "${proj}" && "$FAST" /bin/false "$K" export bash; echo "fast: $?")
      "$NODE" "$K" get A; echo "get: $?"
      "$NODE" "$K" status --json > "$XDG_RUNTIME_DIR/status.json"
      "$NODE" "$K" daemon start
      "$NODE" "$K" daemon stop`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^fast: 1$/m, 'the native client handed over to node (/bin/false) instead');
    assert.doesNotMatch(r.stdout, /alpha/);
    assert.match(r.stdout, /^get: 2$/m);
    assert.match(r.stderr, /A is locked/);
    const st = JSON.parse(readFileSync(join(sb.env.XDG_RUNTIME_DIR!, 'status.json'), 'utf8')) as { daemon: unknown; socket: string };
    assert.equal(st.daemon, null);
    assert.notEqual(st.socket, userSock);
    assert.match(r.stderr, /daemon started \(pid \d+, session \d+\)/, 'the session gets its own daemon');
    const audit = join(sb.env.XDG_STATE_HOME!, 'keyrack', 'audit.log');
    assert.ok(!existsSync(audit) || !readFileSync(audit, 'utf8').includes('"op":"get"'), 'the uid-only daemon handed nothing out');
  } finally {
    sb.cleanup();
  }
});

test('without the opt-in (or with one others could write) a login session never uses the user-wide daemon', { skip: needsRoot('needs root to create audit sessions') }, async () => {
  const sb = sandbox();
  registerKey(sb, 'A');
  const userSock = join(sb.env.XDG_RUNTIME_DIR!, 'keyrack.u0.sock');
  const daemon = spawn(process.execPath, [KEYRACK, 'daemon', 'run'], { env: { ...sb.env, KEYRACK_USER_DAEMON: '1' }, stdio: 'ignore', detached: true });
  try {
    await waitFor(userSock);
    const put = await run(process.execPath, [PROBE, userSock, JSON.stringify({ id: 1, op: 'put', ttlMs: 600_000, keys: { A: { value: 'alpha' } } })], {});
    assert.match(put.stdout, /"shared":true/, 'it says it serves every session: not enough');
    const proj = join(sb.dir, 'proj');
    mkdirSync(proj);
    writeFileSync(join(proj, '.keyrack'), 'A\n');
    assert.equal((await keyrack(['allow', proj], { env: sb.env })).code, 0);
    const script = `
      (cd "${proj}" && "$FAST" /bin/false "$K" export bash; echo "fast: $?")
      "$NODE" "$K" get A; echo "get: $?"
      "$NODE" "$K" status --json > "$XDG_RUNTIME_DIR/status.json"`;
    const file = join(sb.env.XDG_CONFIG_HOME!, 'keyrack', 'user-daemon');
    const cases: Array<[string, () => void]> = [
      ['no opt-in', () => undefined],
      ['a group-writable opt-in', () => { optIn(sb); chmodSync(file, 0o664); }],
      ['an opt-in that is a symlink', () => { unlinkSync(file); writeFileSync(`${file}.real`, ''); symlinkSync(`${file}.real`, file); }],
    ];
    for (const [label, setUp] of cases) {
      setUp();
      const r = await inSession(sb, script);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^fast: 1$/m, `${label}: the native client handed over to node (/bin/false)`);
      assert.doesNotMatch(r.stdout, /alpha/, label);
      assert.match(r.stdout, /^get: 2$/m, label);
      const st = JSON.parse(readFileSync(join(sb.env.XDG_RUNTIME_DIR!, 'status.json'), 'utf8')) as { daemon: unknown; socket: string };
      assert.equal(st.daemon, null, label);
      assert.notEqual(st.socket, userSock, label);
    }
    const audit = join(sb.env.XDG_STATE_HOME!, 'keyrack', 'audit.log');
    assert.ok(!existsSync(audit) || !readFileSync(audit, 'utf8').includes('"op":"get"'), 'the user-wide daemon handed nothing out');

    // The same daemon, once the user opted in with a file of their own: used.
    unlinkSync(file);
    optIn(sb);
    const r = await inSession(sb, script);
    assert.match(r.stdout, /^alpha$/m);
    assert.match(r.stdout, /^fast: 0$/m);
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
    sb.cleanup();
  }
});
