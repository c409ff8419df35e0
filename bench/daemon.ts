/**
 * The session daemon's costs, and why the caller check is native:
 *  1. caller-check cost per connection: SO_PEERCRED, the full session check
 *     (SO_PEERCRED + pidfd + /proc/<pid>/sessionid), and an `ss -xp` shell-out
 *     (done correctly: our inode → its peer inode → the process holding that);
 *     plus how often the naive `ss -xp | grep <inode>` names the daemon itself;
 *  2. GET round-trip p50/p99 over 1000 requests for 10 keys against the real
 *     daemon (dist bundle): on one connection, and connect+check+hello+get+close
 *     per request (what `keyrack export` does on each cd);
 *  3. the same connect+get latency from a server that checks callers with `ss -xp`
 *     instead, measured in the same run;
 *  4. daemon RSS when idle (empty, and holding 10 keys).
 *
 *   npm run -s build && node --import tsx bench/daemon.ts [requests] [--daemon-only]
 *   (--daemon-only: just 2 and 4, the real daemon; for before/after comparisons)
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DaemonConnection } from '../src/daemon/client.ts';
import { socketFd } from '../src/daemon/peer.ts';
import { encodeFrame, FrameDecoder, PROTOCOL_VERSION } from '../src/daemon/protocol.ts';
import { native } from '../src/native.ts';
import { socketPath } from '../src/paths.ts';
import { sandbox, type Sandbox } from '../test/helpers.ts';

const N = process.argv[2] === '--serve' ? 0 : Number(process.argv[2] ?? 1000);
const DAEMON_ONLY = process.argv.includes('--daemon-only');
const KEYRACK = fileURLToPath(new URL('../dist/keyrack.mjs', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const execFileP = promisify(execFile);
const KEYS = Array.from({ length: 10 }, (_, i) => `KEY_${i}`);

/** A fresh sandbox (test/helpers.ts), removed at the end of the run. */
const sandboxes: Sandbox[] = [];
function sandboxEnv(): NodeJS.ProcessEnv {
  const sb = sandbox();
  sandboxes.push(sb);
  return sb.env;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const fmt = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`);
const line = (label: string, xs: number[]) => console.log(`  ${label.padEnd(48)} p50 ${fmt(pct(xs, 50)).padStart(10)}   p99 ${fmt(pct(xs, 99)).padStart(10)}   (n=${xs.length})`);

// ---------- the ss -xp check ----------
interface SsRow { local: string; peer: string; pids: number[]; raw: string }
function parseSs(out: string): SsRow[] {
  const rows: SsRow[] = [];
  for (const l of out.split('\n')) {
    const m = /^u_str\s+\S+\s+\d+\s+\d+\s+\S+\s+(\d+)\s+\S+\s+(\d+)\s*(.*)$/.exec(l);
    if (m) rows.push({ local: m[1]!, peer: m[2]!, pids: [...m[3]!.matchAll(/pid=(\d+)/g)].map((x) => Number(x[1])), raw: l });
  }
  return rows;
}
function inodeOf(s: Socket): string {
  return /socket:\[(\d+)\]/.exec(readlinkSync(`/proc/self/fd/${socketFd(s)}`))![1]!;
}
/** The correct lookup: our end's row gives the peer inode; the peer's row gives its pid. */
async function ssCheck(s: Socket): Promise<{ pid: number; uid: number; naivePid: number | undefined }> {
  const inode = inodeOf(s);
  const rows = parseSs((await execFileP('ss', ['-xpn'], { maxBuffer: 64 << 20 })).stdout);
  const ours = rows.find((r) => r.local === inode);
  const theirs = ours && rows.find((r) => r.local === ours.peer);
  const pid = theirs?.pids[0];
  if (pid === undefined) throw new Error('ss: peer not found');
  const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  // What `ss -xp | grep <inode>` does: the first line mentioning the inode, either column.
  const naive = rows.find((r) => r.raw.includes(` ${inode} `) || r.raw.endsWith(` ${inode}`));
  return { pid, uid, naivePid: naive?.pids[0] };
}

// ---------- child mode: a minimal daemon with a pluggable check ----------
async function serve(mode: 'native' | 'ss', env: NodeJS.ProcessEnv): Promise<void> {
  const path = socketPath(env);
  const values = Object.fromEntries(KEYS.map((k) => [k, { value: `value-of-${k}`, expiresAt: Date.now() + 3_600_000 }]));
  const checkTimes: number[] = [];
  let naiveWrong = 0;
  const addon = native();
  const server = createServer(async (s) => {
    s.on('error', () => {});
    const t0 = performance.now();
    let ok: boolean;
    if (mode === 'native') {
      const info = addon.peerInfo(socketFd(s));
      ok = info.uid === process.getuid!();
    } else {
      const r = await ssCheck(s);
      ok = r.uid === process.getuid!();
      if (r.naivePid === process.pid) naiveWrong++;
    }
    checkTimes.push(performance.now() - t0);
    if (!ok) return void s.destroy();
    const dec = new FrameDecoder();
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      for (const f of dec.push(d) as Array<{ id: number; op: string; keys?: string[] }>) {
        if (f.op === 'get') s.write(encodeFrame({ id: f.id, ok: true, keys: Object.fromEntries((f.keys ?? []).map((k) => [k, values[k]])) }));
        else if (f.op === 'status') s.write(encodeFrame({ id: f.id, ok: true, checkTimes, naiveWrong }));
      }
    });
    s.write(encodeFrame({ keyrack: PROTOCOL_VERSION, pid: process.pid, session: null, mode: 'uid-only', gen: 'bench' }));
  });
  server.listen(path, () => process.stdout.write('ready\n'));
}

// ---------- the bench ----------
async function connectGet(env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = performance.now();
  const c = await DaemonConnection.open(env);
  if (!c) throw new Error('no daemon');
  const r = await c.request({ op: 'get', keys: KEYS });
  c.close();
  if (Object.keys(r.keys ?? {}).length !== KEYS.length) throw new Error('missing keys');
  return performance.now() - t0;
}

function rssKb(pid: number): number {
  return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

async function startServer(mode: 'native' | 'ss', env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--serve', mode, JSON.stringify(env)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); }));
  return child;
}

async function main(): Promise<void> {
  if (!DAEMON_ONLY && spawnSync('sh', ['-c', 'command -v ss']).status !== 0) throw new Error('ss is missing: apt-get install iproute2');
  const dir = mkdtempSync(join(tmpdir(), 'kr-bench-'));
  const env = sandboxEnv();
  try {
    console.log(`keyrack daemon bench: ${N} requests, ${KEYS.length} keys, node ${process.version}, ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}`);

    // Real daemon.
    const st = spawnSync(process.execPath, [KEYRACK, 'daemon', 'start'], { env, encoding: 'utf8' });
    if (st.status !== 0) throw new Error(st.stderr);
    const first = (await DaemonConnection.open(env))!;
    const pid = first.hello.pid;
    await new Promise((r) => setTimeout(r, 1000));
    const rssEmpty = rssKb(pid);
    await first.request({ op: 'put', ttlMs: 3_600_000, keys: Object.fromEntries(KEYS.map((k) => [k, { value: `value-of-${k}-${'x'.repeat(40)}` }])) });
    const check = (await first.request({ op: 'status' })).status.check;

    console.log(`\nreal daemon (pid ${pid}; check: ${check})`);
    for (let i = 0; i < 50; i++) await first.request({ op: 'get', keys: KEYS }); // warm-up
    const oneConn: number[] = [];
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      await first.request({ op: 'get', keys: KEYS });
      oneConn.push(performance.now() - t0);
    }
    first.close();
    line('GET 10 keys, one connection', oneConn);
    for (let i = 0; i < 50; i++) await connectGet(env);
    const perConn: number[] = [];
    for (let i = 0; i < N; i++) perConn.push(await connectGet(env));
    line('connect + check + hello + GET 10 keys + close', perConn);
    await new Promise((r) => setTimeout(r, 1000));
    console.log(`  idle RSS: ${(rssEmpty / 1024).toFixed(1)} MiB empty, ${(rssKb(pid) / 1024).toFixed(1)} MiB holding 10 keys after ${N * 2} requests`);
    spawnSync(process.execPath, [KEYRACK, 'daemon', 'stop'], { env });
    if (DAEMON_ONLY) return;

    // Same minimal server, two checks.
    console.log('\nminimal server, same protocol, caller check swapped (server in a child process)');
    const results: Record<string, { lat: number[]; check: number[]; naiveWrong: number }> = {};
    for (const mode of ['native', 'ss'] as const) {
      const menv = sandboxEnv();
      const child = await startServer(mode, menv);
      for (let i = 0; i < 20; i++) await connectGet(menv);
      const lat: number[] = [];
      for (let i = 0; i < N; i++) lat.push(await connectGet(menv));
      const c = (await DaemonConnection.open(menv))!;
      const stats = (await c.request({ op: 'status' })) as unknown as { checkTimes: number[]; naiveWrong: number };
      c.close();
      child.kill();
      results[mode] = { lat, check: stats.checkTimes.slice(20, 20 + N), naiveWrong: stats.naiveWrong };
      line(`${mode === 'native' ? 'native peerInfo' : 'ss -xp shell-out'}: connect + check + GET + close`, lat);
    }
    console.log('\ncaller check alone, per connection (measured inside the server)');
    line('native: SO_PEERCRED + pidfd + /proc sessionid', results.native!.check);
    line('ss -xpn shell-out + parse + /proc status', results.ss!.check);
    const ratio = pct(results.ss!.check, 50) / pct(results.native!.check, 50);
    console.log(`  ss / native (p50): ${ratio.toFixed(0)}x`);
    const wrong = results.ss!.naiveWrong;
    console.log(`  naive "ss -xp | grep <inode>" named the server itself for ${wrong} of ${results.ss!.check.length + 21} connections (${((100 * wrong) / (results.ss!.check.length + 21)).toFixed(0)}%)`);

    // The bare syscalls, in-process, for scale.
    const addon = native();
    const srv = createServer();
    const p = join(dir, 'bare.sock');
    await new Promise<void>((r) => srv.listen(p, r));
    const accepted = new Promise<Socket>((r) => srv.once('connection', r));
    const { createConnection } = await import('node:net');
    const cl = createConnection(p);
    const s = await accepted;
    const fd = socketFd(s);
    const bare = (f: () => unknown) => {
      const xs: number[] = [];
      for (let i = 0; i < 10_000; i++) {
        const t0 = performance.now();
        f();
        xs.push(performance.now() - t0);
      }
      return xs;
    };
    console.log('\nbare calls, 10000 each, in-process');
    line('peerCred(fd)  (SO_PEERCRED)', bare(() => addon.peerCred(fd)));
    line('peerInfo(fd)  (+ SO_PEERPIDFD, /proc/<pid>/sessionid)', bare(() => addon.peerInfo(fd)));
    cl.destroy();
    srv.close();
  } finally {
    spawnSync(process.execPath, [KEYRACK, 'daemon', 'stop'], { env });
    rmSync(dir, { recursive: true, force: true });
    for (const sb of sandboxes) sb.cleanup();
  }
}

if (process.argv[2] === '--serve') {
  await serve(process.argv[3] as 'native' | 'ss', JSON.parse(process.argv[4]!) as NodeJS.ProcessEnv);
} else {
  await main();
}
