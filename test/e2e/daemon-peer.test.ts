/**
 * The daemon's caller checks against real kernels facts: another audit login
 * session, another uid, and a socket planted by another uid at the client's path.
 * Root makes the sessions (writing /proc/self/loginuid starts a fresh one) and the
 * other uid (65534).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEYRACK, ROOT, keyrack, run, sandbox, type Sandbox, needsRoot } from '../helpers.ts';

const PROBE = join(ROOT, 'test', 'sockets', 'probe.mjs');
const PLANTED = join(ROOT, 'test', 'sockets', 'planted.mjs');
const NOBODY = 65534;

interface ProbeResult { frames: Array<Record<string, unknown>>; closed: boolean; error?: string }

function parseProbe(out: string): ProbeResult {
  return JSON.parse(out.trim().split('\n').pop()!) as ProbeResult;
}

async function probe(sock: string, frames: string[] = [], opts: { uid?: number; session?: boolean } = {}): Promise<ProbeResult> {
  const args = [PROBE, sock, ...frames];
  if (opts.session) {
    // A fresh audit session: this sh and everything it execs.
    const r = await run('sh', ['-c', 'echo 1000 > /proc/self/loginuid || exit 99; exec "$@"', 'sh', process.execPath, ...args], {});
    assert.equal(r.code, 0, r.stderr);
    return parseProbe(r.stdout);
  }
  const r = await run(process.execPath, args, { uid: opts.uid });
  assert.equal(r.code, 0, r.stderr);
  return parseProbe(r.stdout);
}

function waitExit(pid: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      try {
        process.kill(pid, 0);
      } catch {
        resolve();
        return;
      }
      if (Date.now() - started > 10_000) reject(new Error(`pid ${pid} did not exit`));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

/** A registry with one os.secure key, written directly: these tests never decrypt it. */
function registerKey(sb: Sandbox, name: string): void {
  const dir = join(sb.env.XDG_CONFIG_HOME!, 'keyrack');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'registry.json'), JSON.stringify({ version: 1, keys: { [name]: { vault: 'os.secure' } } }), { mode: 0o600 });
}

async function daemonStatus(sb: Sandbox): Promise<{ pid: number; socket: string }> {
  const r = await keyrack(['status', '--json'], { env: sb.env });
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { socket: string; daemon: { pid: number } | null };
  assert.ok(s.daemon, 'daemon should be running');
  return { pid: s.daemon.pid, socket: s.socket };
}

const put = (id: number, name: string, value: string) => JSON.stringify({ id, op: 'put', ttlMs: 60_000, keys: { [name]: { value } } });
const get = (id: number, name: string) => JSON.stringify({ id, op: 'get', keys: [name] });

test('a client in another audit login session is refused; the same session is served', { skip: needsRoot('needs root to create audit sessions') }, async () => {
  const sb = sandbox();
  let daemonPid: number | undefined;
  let shell: ChildProcess | undefined;
  try {
    const init = await keyrack(['init'], { env: sb.env, input: 'pw\n' });
    assert.equal(init.code, 0, init.stderr);
    assert.equal((await keyrack(['set', 'A'], { env: sb.env, input: 'alpha\n' })).code, 0);

    // One shell in a fresh session: unlock (starting the daemon there), read back,
    // then wait for the test's go-ahead and read again after the foreign probes.
    const go = join(sb.dir, 'go');
    const script = `
      echo 1000 > /proc/self/loginuid || exit 99
      printf 'pw\\n' | "$NODE" "$K" unlock A --ttl 5m || exit 98
      "$NODE" "$K" get A || exit 97
      "$NODE" "$K" status --json > "$SB/status.tmp" || exit 96
      mv "$SB/status.tmp" "$SB/status.json"
      while [ ! -e "$GO" ]; do sleep 0.05; done
      "$NODE" "$K" get A || exit 95
      cat /proc/self/sessionid`;
    shell = spawn('sh', ['-c', script], { env: { ...sb.env, NODE: process.execPath, K: KEYRACK, GO: go, SB: sb.dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    shell.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
    shell.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
    const exited = new Promise<number | null>((resolve) => shell!.once('close', resolve));
    const statusFile = join(sb.dir, 'status.json');
    for (let i = 0; i < 750 && !existsSync(statusFile) && shell.exitCode === null; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(existsSync(statusFile), `the same-session shell got a status: ${err}`);
    const st = JSON.parse(readFileSync(statusFile, 'utf8')) as { socket: string; daemon: { pid: number; mode: string; session: number; check: string } };
    daemonPid = st.daemon.pid;
    assert.equal(st.daemon.mode, 'session');
    assert.equal(typeof st.daemon.session, 'number');
    assert.match(st.daemon.check, /audit session \d+ via (SO_PEERPIDFD|pidfd_open)/);

    // This test process has no session id at all: refused.
    const unset = await probe(st.socket, [get(1, 'A')]);
    assert.equal(unset.frames.length, 1);
    assert.equal(unset.frames[0]!.error, 'refused');
    assert.match(String(unset.frames[0]!.reason), /session unset is not the daemon's session/);
    assert.ok(unset.closed);

    // Another fresh session: refused, and no value comes back.
    const other = await probe(st.socket, [get(1, 'A')], { session: true });
    assert.equal(other.frames.length, 1);
    assert.equal(other.frames[0]!.error, 'refused');
    assert.match(String(other.frames[0]!.reason), /peer audit session \d+ is not the daemon's session \d+/);
    assert.ok(!JSON.stringify(other).includes('alpha'));

    writeFileSync(go, '');
    assert.equal(await exited, 0, err);
    shell = undefined;
    const lines = out.trim().split('\n');
    assert.deepEqual(lines.slice(0, 2), ['alpha', 'alpha']);
    assert.equal(Number(lines[2]), st.daemon.session);

    const log = readFileSync(join(sb.env.XDG_STATE_HOME!, 'keyrack', 'daemon.log'), 'utf8');
    assert.match(log, new RegExp(`started: .*session ${st.daemon.session}`));
    assert.equal((log.match(/refused pid \d+ uid 0: peer audit session/g) ?? []).length, 2);
    assert.ok(!log.includes('alpha'), 'the log never holds a value');

    process.kill(daemonPid, 'SIGTERM');
    await waitExit(daemonPid);
    daemonPid = undefined;
    assert.ok(!existsSync(st.socket), 'the daemon removes its socket on SIGTERM');
  } finally {
    shell?.kill('SIGKILL');
    if (daemonPid) process.kill(daemonPid, 'SIGKILL');
    sb.cleanup();
  }
});

test('a client of another uid is refused even through a world-writable socket', { skip: needsRoot('needs root to run as uid 65534') }, async () => {
  const sb = sandbox();
  try {
    assert.equal((await keyrack(['daemon', 'start'], { env: sb.env })).code, 0);
    const { pid, socket } = await daemonStatus(sb);
    const mine = await probe(socket, [put(1, 'A', 'alpha')]);
    assert.equal(mine.frames[1]!.ok, true);

    // Loosen everything on purpose: only the kernel check is left.
    chmodSync(sb.dir, 0o711);
    chmodSync(sb.env.XDG_RUNTIME_DIR!, 0o777);
    chmodSync(socket, 0o777);
    const theirs = await probe(socket, [get(1, 'A')], { uid: NOBODY });
    assert.equal(theirs.error, undefined, 'the probe did connect');
    assert.equal(theirs.frames.length, 1);
    assert.equal(theirs.frames[0]!.error, 'refused');
    assert.match(String(theirs.frames[0]!.reason), /peer uid 65534 is not the daemon's uid 0/);
    assert.ok(!JSON.stringify(theirs).includes('alpha'));

    // Still the same daemon, still serving its own user.
    const again = await probe(socket, [get(1, 'A')]);
    assert.deepEqual((again.frames[1] as { keys: Record<string, { value: string }> }).keys.A!.value, 'alpha');
    assert.equal((again.frames[0] as { pid: number }).pid, pid);
  } finally {
    sb.cleanup();
  }
});

test('a socket planted by another uid at our path gets nothing from the client', { skip: needsRoot('needs root to run as uid 65534') }, async () => {
  const sb = sandbox();
  registerKey(sb, 'A');
  chmodSync(sb.dir, 0o711);
  chmodSync(sb.env.XDG_RUNTIME_DIR!, 0o777); // a shared directory, as /tmp fallbacks can be
  const path = join(sb.env.XDG_RUNTIME_DIR!, 'keyrack.u0.sock');
  const planted = spawn(process.execPath, [PLANTED, path], { uid: NOBODY, gid: NOBODY, stdio: ['ignore', 'pipe', 'inherit'] });
  let events = '';
  planted.stdout.setEncoding('utf8').on('data', (d: string) => { events += d; });
  try {
    for (let i = 0; i < 250 && !events.includes('listening'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(events.includes('listening'), 'the planted server is up');

    const attempts: Array<[string[], string?]> = [
      [['get', 'A']], [['lock']], [['lock', 'A']], [['status']], [['daemon', 'status']], [['daemon', 'stop']],
      [['unlock', 'A'], 'pw\n'],
    ];
    for (const [args, input] of attempts) {
      const r = await keyrack(args, { env: sb.env, input });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /served by uid 65534 .*not by you \(uid 0\)/, args.join(' '));
    }
    // The native fast-path client checks too: it hands over to node (here /bin/false).
    const fast = await run(join(ROOT, 'native', 'build', 'Release', 'keyrack-fast'), ['/bin/false', KEYRACK, 'export', 'bash'], { env: sb.env });
    assert.equal(fast.code, 1, 'keyrack-fast fell back instead of talking to the planted socket');
    assert.equal(fast.stdout, '');
  } finally {
    planted.kill('SIGTERM');
    await new Promise((r) => planted.once('close', r));
    sb.cleanup();
  }
  const connections = (events.match(/^connection$/gm) ?? []).length;
  assert.ok(connections >= 8, `every command connected (${connections})`);
  assert.doesNotMatch(events, /bytes/, 'the client sent nothing at all');
});
