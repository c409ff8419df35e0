/**
 * The fuzz scenario around fuzzer.ts, used by test/e2e/daemon-fuzz.test.ts (short)
 * and bench/fuzz.ts (long).
 *
 * The fuzzing runs in a child ("driver") that, as root, first enters a fresh
 * audit session and starts the daemon there, so its hostile connections pass the
 * caller check and reach the protocol. Meanwhile this process — which has no
 * session, like another login — keeps connecting as a refused caller, and also
 * starts probes in yet another session: none of them may ever see a value.
 * Afterwards: same daemon pid, the canary keys intact, RSS back near the
 * baseline taken after a warm-up, no value in the daemon's log or audit log.
 *
 *   driver: node --import tsx test/fuzz/fuzz-run.ts --driver '<json options>'
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaemonConnection } from '../../src/daemon/client.ts';
import { fuzz, type FuzzSummary } from './fuzzer.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const KEYRACK = join(HERE, '..', '..', 'dist', 'keyrack.mjs');
const PROBE = join(HERE, '..', 'sockets', 'probe.mjs');
const SELF = fileURLToPath(import.meta.url);
const CANARIES = ['CANARY_A', 'CANARY_B'];

export interface ScenarioOptions {
  seconds: number;
  minConnections?: number;
  seed: number;
  concurrency: number;
  hugeShare?: number;
  env: NodeJS.ProcessEnv;
  /** Log a line of progress (bench). */
  say?: (s: string) => void;
}

export interface ScenarioResult {
  /** Did the driver run in its own audit session (root), so refusals could be tested? */
  ownSession: boolean;
  pidBefore: number;
  pidAfter: number | null;
  canaryIntact: boolean;
  rssBaselineKb: number;
  rssPeakKb: number;
  rssAfterKb: number;
  /** Open fds of the daemon after the warm-up and after the fuzz (a leak per connection shows here). */
  fdsBaseline: number;
  fdsAfter: number;
  fuzz: FuzzSummary;
  refused: { attempts: number; refusedFrames: number; otherFrames: number; leaks: number; sessionProbes: number };
  logLeaks: string[];
  auditRefusedRecords: number;
  driverStderr: string;
}

function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

function rssKb(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  } catch {
    return -1;
  }
}

// ---------------- driver (inside the daemon's session) ----------------

interface DriverOptions { seconds: number; minConnections?: number; seed: number; concurrency: number; hugeShare?: number; canary: string }

async function driver(o: DriverOptions): Promise<void> {
  const env = process.env;
  const out = (x: unknown) => process.stdout.write(JSON.stringify(x) + '\n');
  const st = spawnSync(process.execPath, [KEYRACK, 'daemon', 'start'], { env, encoding: 'utf8' });
  if (st.status !== 0) throw new Error(`daemon start: ${st.stderr}`);
  const c = await DaemonConnection.open(env);
  if (!c) throw new Error('no daemon');
  const pid = c.hello.pid;
  const socket = c.path;
  await c.request({ op: 'put', ttlMs: 3_600_000, keys: { CANARY_A: { value: o.canary }, CANARY_B: { env: { CANARY_X: o.canary } } } });
  c.close();

  // Warm-up with the same mix, so JIT code and the heap's working size are in the baseline.
  await fuzz({ socket, seed: o.seed ^ 0x5eed, seconds: Math.min(3, o.seconds / 2), concurrency: o.concurrency, canaries: CANARIES, hugeShare: o.hugeShare });
  await sleep(1000);
  const baseline = rssKb(pid);
  const fdsBaseline = fdCount(pid);
  out({ ready: true, socket, pid });

  let peak = baseline;
  const sampler = setInterval(() => { peak = Math.max(peak, rssKb(pid)); }, 100);
  const done = new Promise<void>((resolve) => createInterface({ input: process.stdin }).on('line', (l) => { if (l === 'done') resolve(); }));
  const summary = await fuzz({ socket, seed: o.seed, seconds: o.seconds, minConnections: o.minConnections, concurrency: o.concurrency, canaries: CANARIES, hugeShare: o.hugeShare });
  clearInterval(sampler);
  await done;

  // Settle: V8 gives memory back once allocation stops; give it a few seconds.
  let after = rssKb(pid);
  for (let i = 0; i < 30 && after > baseline + 10 * 1024; i++) {
    await sleep(100);
    after = rssKb(pid);
  }
  // Connections the fuzzer just closed may still be in teardown: a leak outlasts this.
  let fdsAfter = fdCount(pid);
  for (let i = 0; i < 50 && fdsAfter > fdsBaseline + 2; i++) {
    await sleep(100);
    fdsAfter = fdCount(pid);
  }
  let pidAfter: number | null = null;
  let canaryIntact = false;
  const c2 = await DaemonConnection.open(env);
  if (c2) {
    pidAfter = c2.hello.pid;
    const got = (await c2.request({ op: 'get', keys: CANARIES })).keys;
    const a = got.CANARY_A as { value?: string } | undefined;
    const b = got.CANARY_B as { env?: Record<string, string> } | undefined;
    canaryIntact = a?.value === o.canary && b?.env?.CANARY_X === o.canary;
    await c2.request({ op: 'stop' });
    c2.close();
  }
  out({ summary, pidBefore: pid, pidAfter, canaryIntact, rssBaselineKb: baseline, rssPeakKb: peak, rssAfterKb: after, fdsBaseline, fdsAfter });
}

// ---------------- the refused side (this process) ----------------

interface ProbeOutcome { frames: Array<Record<string, unknown>>; raw: string }

/** Connects without waiting for a hello and asks for the canaries straight away. */
function refusedProbe(socket: string): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const s = createConnection(socket);
    let raw = '';
    const t = setTimeout(() => s.destroy(), 3000);
    s.setEncoding('utf8');
    s.on('connect', () => s.write(`${JSON.stringify({ id: 1, op: 'get', keys: CANARIES })}\n{"id":2,"op":"status"}\n`));
    s.on('data', (d: string) => { raw += d; });
    s.on('error', () => { /* reset after the refusal */ });
    s.on('close', () => {
      clearTimeout(t);
      const frames = raw.split('\n').filter(Boolean).map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return { unparsable: l };
        }
      });
      resolve({ frames, raw });
    });
  });
}

const isRoot = () => process.getuid?.() === 0;

export async function scenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const canary = `canary-${randomBytes(12).toString('hex')}`;
  const own = isRoot();
  const opts: DriverOptions = { seconds: o.seconds, minConnections: o.minConnections, seed: o.seed, concurrency: o.concurrency, hugeShare: o.hugeShare, canary };
  const argv = ['--import', 'tsx', SELF, '--driver', JSON.stringify(opts)];
  const child = own
    ? spawn('sh', ['-c', 'echo 1000 > /proc/self/loginuid || exit 99; exec "$@"', 'sh', process.execPath, ...argv], { env: o.env, stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(process.execPath, argv, { env: o.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const lines: Array<Record<string, unknown>> = [];
  let wake: (() => void) | undefined;
  createInterface({ input: child.stdout! }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      stderr += `driver stdout: ${l}\n`;
    }
    wake?.();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const next = async (): Promise<Record<string, unknown>> => {
    while (lines.length === 0) {
      if (child.exitCode !== null) throw new Error(`fuzz driver exited ${child.exitCode}: ${stderr}`);
      await Promise.race([new Promise<void>((r) => { wake = r; }), exited.then(() => undefined)]);
    }
    return lines.shift()!;
  };

  const ready = await next();
  const socket = String(ready.socket);
  const pidBefore = Number(ready.pid);
  o.say?.(`daemon pid ${pidBefore} on ${socket} (${own ? 'its own audit session' : 'uid-only: not root, no refusals to test'}); fuzzing ${o.seconds}s, ${o.concurrency} at a time, seed ${o.seed}`);

  try {
    return await refusedSide(o, { child, next, exited, socket, pidBefore, canary, own, stderr: () => stderr });
  } catch (e) {
    try {
      process.kill(pidBefore, 'SIGTERM'); // a daemon in another session: sandbox cleanup cannot reach it
    } catch { /* gone */ }
    throw e;
  }
}

interface Running {
  child: ReturnType<typeof spawn>;
  next(): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
  socket: string;
  pidBefore: number;
  canary: string;
  own: boolean;
  stderr(): string;
}

async function refusedSide(o: ScenarioOptions, x: Running): Promise<ScenarioResult> {
  const { child, next, exited, socket, pidBefore, canary, own } = x;
  const refused = { attempts: 0, refusedFrames: 0, otherFrames: 0, leaks: 0, sessionProbes: 0 };
  if (own) {
    // While the fuzz runs: refused callers, as a flood from this session-less process…
    const until = Date.now() + o.seconds * 800;
    while (Date.now() < until) {
      const batch = await Promise.all(Array.from({ length: 20 }, () => refusedProbe(socket)));
      for (const b of batch) {
        refused.attempts++;
        if (b.raw.includes(canary)) refused.leaks++;
        for (const f of b.frames) {
          if (f.error === 'refused') refused.refusedFrames++;
          else refused.otherFrames++;
        }
      }
      await sleep(50);
    }
    // …and from another login session.
    for (let i = 0; i < 3; i++) {
      const r = spawnSync('sh', ['-c', 'echo 1000 > /proc/self/loginuid || exit 99; exec "$@"', 'sh', process.execPath, PROBE, socket,
        JSON.stringify({ id: 1, op: 'get', keys: CANARIES })], { encoding: 'utf8', timeout: 10_000 });
      refused.sessionProbes++;
      refused.attempts++;
      if (r.stdout.includes(canary)) refused.leaks++;
      const res = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { frames?: Array<Record<string, unknown>> };
      for (const f of res.frames ?? []) {
        if (f.error === 'refused') refused.refusedFrames++;
        else refused.otherFrames++;
      }
    }
  }
  child.stdin!.end('done\n');
  const final = await next();
  const code = await exited;
  if (code !== 0) throw new Error(`fuzz driver exited ${code}: ${x.stderr()}`);

  const stateDir = join(o.env.XDG_STATE_HOME!, 'keyrack');
  const logLeaks: string[] = [];
  let auditRefusedRecords = 0;
  for (const f of ['daemon.log', 'audit.log', 'audit.log.1', 'audit.log.2', 'audit.log.3']) {
    const p = join(stateDir, f);
    if (!existsSync(p)) continue;
    const text = readFileSync(p, 'utf8');
    if (text.includes(canary)) logLeaks.push(f);
    if (f.startsWith('audit')) auditRefusedRecords += (text.match(/"op":"(refused|suppressed)"/g) ?? []).length;
  }
  return {
    ownSession: own,
    pidBefore,
    pidAfter: final.pidAfter as number | null,
    canaryIntact: final.canaryIntact === true,
    rssBaselineKb: Number(final.rssBaselineKb),
    rssPeakKb: Number(final.rssPeakKb),
    rssAfterKb: Number(final.rssAfterKb),
    fdsBaseline: Number(final.fdsBaseline),
    fdsAfter: Number(final.fdsAfter),
    fuzz: final.summary as FuzzSummary,
    refused,
    logLeaks,
    auditRefusedRecords,
    driverStderr: x.stderr(),
  };
}

if (process.argv[2] === '--driver') {
  driver(JSON.parse(process.argv[3]!) as DriverOptions).then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
