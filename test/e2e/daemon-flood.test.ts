/**
 * Refused callers cannot starve the daemon (issue 10, item 5): while processes of
 * the same uid in another login session keep 2 × 1,050 refused connections in
 * flight (reconnecting the moment they are refused), every GET of the owner, from
 * the daemon's own session, succeeds with the right values; the flood gets only
 * refusals; and the daemon is left holding no more descriptors than before. How
 * fast the owner is served meanwhile is measured in bench/flood.ts, not asserted.
 * And when a backlog is full all the same, the client waits instead of failing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { KEYRACK, ROOT, needsRoot, sandbox } from '../helpers.ts';
import { socketPath } from '../../src/paths.ts';

const OWNER = join(ROOT, 'test', 'sockets', 'owner.ts');
const FLOOD = join(ROOT, 'test', 'sockets', 'flood.mjs');
const NEW_SESSION = 'echo 1000 > /proc/self/loginuid || exit 99; exec "$@"';
const FLOODERS = 2;
const CONCURRENCY = 1050;
/** A bound on each flooder, should the owner hang: it is stopped when the owner is done. */
const MAX_CONNECTS = 2_000_000;
const REQUESTS = 150;

function lineReader(child: ChildProcessWithoutNullStreams): () => Promise<string> {
  const it = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return async () => {
    const r = await it.next();
    if (r.done) throw new Error(`pid ${child.pid} ended early`);
    return r.value as string;
  };
}

/**
 * The daemon's descriptors a peer can make it hold: sockets, pidfds and /proc/<pid>
 * handles (the caller check's). Node's own (epoll, eventfds, pipes, its log and audit
 * files) are not counted: the runtime may open one of those lazily at any time.
 */
function peerFds(pid: number): string[] {
  const out: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    if (target.startsWith('socket:') || target === 'anon_inode:[pidfd]' || /^\/proc\/\d+$/.test(target)) out.push(`${fd}:${target}`);
  }
  return out;
}

test('during a flood of refused connections from another session, every GET of the owner succeeds', { skip: needsRoot('needs root to create audit sessions') }, async () => {
  const sb = sandbox();
  const children: ChildProcessWithoutNullStreams[] = [];
  let daemonPid: number | undefined;
  try {
    const owner = spawn('sh', ['-c', NEW_SESSION, 'sh', process.execPath, '--import', 'tsx', OWNER, KEYRACK], { env: sb.env });
    children.push(owner);
    let ownerErr = '';
    owner.stderr.setEncoding('utf8').on('data', (d: string) => { ownerErr += d; });
    const ownerLine = lineReader(owner);
    const ready = JSON.parse(await ownerLine()) as { pid: number; socket: string };
    daemonPid = ready.pid;
    const gets = async (n: number) => {
      owner.stdin.write(`get ${n}\n`);
      return JSON.parse(await ownerLine()) as { ms: number[]; failed: string[] };
    };
    assert.deepEqual((await gets(20)).failed, [], ownerErr);
    const before = peerFds(ready.pid);

    const flooders = Array.from({ length: FLOODERS }, () => {
      const f = spawn('sh', ['-c', NEW_SESSION, 'sh', process.execPath, FLOOD, ready.socket, String(CONCURRENCY), String(MAX_CONNECTS)], { env: sb.env });
      children.push(f);
      return { child: f, line: lineReader(f) };
    });
    for (const f of flooders) assert.equal(await f.line(), 'flooding');
    // The GETs start once every flooder has been refused more often than it keeps
    // connections: reconnecting, at full speed (the owner's GETs are quick, so
    // starting them at once could end before the flood got going).
    for (const f of flooders) assert.equal(await f.line(), 'recycling');
    const during = await gets(REQUESTS);
    for (const f of flooders) f.child.kill('SIGTERM');
    const floods = await Promise.all(flooders.map(async (f) => JSON.parse(await f.line()) as { connects: number; refused: number; served: number; errors: Record<string, number> }));

    const somaxconn = readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim();
    assert.deepEqual(during.failed, [], `the owner's GETs failed during the flood (net.core.somaxconn ${somaxconn})`);
    assert.equal(during.ms.length, REQUESTS);
    for (const f of floods) {
      assert.equal(f.served, 0, 'no flooder was served');
      assert.ok(f.refused > CONCURRENCY, `the flood was real: ${JSON.stringify(f)}`);
    }
    // Refused peers keep nothing open in the daemon once the flood is over.
    let after = peerFds(ready.pid);
    for (let i = 0; i < 750 && after.length > before.length; i++) {
      await new Promise((r) => setTimeout(r, 20));
      after = peerFds(ready.pid);
    }
    assert.ok(after.length <= before.length, `the daemon holds ${after.length} peer descriptors, ${before.length} before the flood; new: ${after.filter((t) => !before.includes(t)).join(' ')}`);
    assert.deepEqual((await gets(20)).failed, [], 'still serving after the flood');
    owner.stdin.write('quit\n');
    await new Promise((r) => owner.once('close', r));
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    // A daemon of another session refuses cleanup()'s stop: ended by its pid if the owner could not.
    try { if (daemonPid) process.kill(daemonPid, 'SIGTERM'); } catch { /* stopped by the owner */ }
    sb.cleanup();
  }
});

/** connect(2)'s number on this machine's syscall table (x86_64 42, arm64 203). */
const SYS_CONNECT = process.arch === 'arm64' ? 203 : 42;

/** True while some thread of `pid` is inside connect(2), as /proc/<pid>/task/<tid>/syscall says. */
function inConnect(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/task`).some((tid) => {
      try {
        return readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'utf8').split(' ')[0] === String(SYS_CONNECT);
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

test('a full listen backlog (connect would say EAGAIN) is waited out: the client connects once there is room instead of failing', async () => {
  const sb = sandbox();
  const go = join(sb.dir, 'go');
  const fake = spawn('python3', [join(ROOT, 'test', 'sockets', 'backlog.py'), socketPath(sb.env), go], { env: sb.env });
  try {
    assert.equal(await lineReader(fake)(), 'full');
    const client = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'sockets', 'connect.ts')], { env: sb.env, cwd: ROOT });
    let out = '';
    let err = '';
    client.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    client.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    const exited = new Promise<number | null>((resolve) => client.once('close', resolve));
    // The kernel holds the client in connect() while the queue is full: only then make room.
    let waiting = false;
    for (let i = 0; i < 1500 && client.exitCode === null && !(waiting = inConnect(client.pid!)); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(waiting, `the client met the full backlog and waits in connect(): ${err}`);
    writeFileSync(go, '');
    assert.equal(await exited, 0, `the client waited and connected: ${err}`);
    assert.equal(out.trim(), String(fake.pid));
  } finally {
    fake.kill('SIGKILL');
    sb.cleanup();
  }
});
