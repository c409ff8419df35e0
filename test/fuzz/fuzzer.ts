/**
 * A seeded protocol fuzzer for a live daemon, shared by test/e2e/daemon-fuzz.test.ts
 * (a few seconds) and bench/fuzz.ts (a minute). Each connection waits for the
 * hello, then sends one kind of hostile input: random or mutated bytes, truncated
 * frames, wrong versions and ops, huge frames, invalid UTF-8, deep nesting, a
 * writer that sends one byte at a time, or a valid burst of requests. Everything
 * the daemon sends back must be a well-formed JSON line.
 *
 * The fuzzer never sends `stop` and never locks or overwrites the canary keys, so
 * the caller can check afterwards that the same daemon still serves them.
 */
import { createConnection, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_FRAME } from '../../src/daemon/protocol.ts';

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const KINDS = [
  'random', 'mutated', 'truncated', 'wrong-version', 'bad-op', 'huge-line', 'huge-unterminated',
  'invalid-utf8', 'deep-nesting', 'slow-writer', 'valid-burst', 'idle', 'half-close',
] as const;
export type Kind = (typeof KINDS)[number];

export interface FuzzOptions {
  socket: string;
  seed: number;
  /** Stop starting new connections after this long… */
  seconds: number;
  /** …but not before this many were started (so a slow machine fuzzes as much, only longer). */
  minConnections?: number;
  /** Connections in flight at once. */
  concurrency: number;
  /** Key names the fuzzer must not lock or overwrite. */
  canaries: string[];
  /** Weight of the expensive kinds (huge frames): 0…1. */
  hugeShare?: number;
}

export interface FuzzSummary {
  seed: number;
  connections: number;
  byKind: Record<string, number>;
  bytesSent: number;
  framesReceived: number;
  okAnswers: number;
  errorAnswers: number;
  /** Closed by the daemon before it had answered everything (what malformed input earns). */
  closedByDaemon: number;
  /** Lines from the daemon that were not JSON objects: must stay 0. */
  badFrames: number;
  /** Connections refused or never greeted: must stay 0 for a caller of the daemon's own session. */
  noHello: number;
  seconds: number;
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function randomBytes(r: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = r() < 0.05 ? 0x0a : Math.floor(r() * 256);
  return b;
}

/**
 * A valid request that leaves the canaries alone. No `lock` when it is to be
 * mutated: a mangled "keys" field turns it into lock-everything.
 */
function validRequest(r: () => number, id: number, canaries: string[], lock = true): Record<string, unknown> {
  const name = `F${Math.floor(r() * 20)}`; // a small pool: the store cannot grow without bound
  const which = Math.floor(r() * 6);
  switch (!lock && which === 4 ? 0 : which) {
    case 0: return { id, op: 'ping' };
    case 1: return { id, op: 'status' };
    case 2: return { id, op: 'get', keys: [...canaries, name, 'NOPE'].filter(() => r() < 0.7) };
    case 3: return { id, op: 'put', ttlMs: 1000 + Math.floor(r() * 5000), keys: { [name]: r() < 0.5 ? { value: `v${id}` } : { env: { X: `${id}`, Y: 'y' } } } };
    case 4: return { id, op: 'lock', keys: [name] };
    default: return { id, op: 'backoff' };
  }
}

function payload(kind: Kind, r: () => number, canaries: string[]): { chunks: Buffer[]; delayMs: number; expect: number } {
  const one = (s: string) => ({ chunks: [Buffer.from(s)], delayMs: 0, expect: 0 });
  const valid = (lock = true) => JSON.stringify(validRequest(r, Math.floor(r() * 1e6), canaries, lock));
  switch (kind) {
    case 'random':
      return { chunks: [randomBytes(r, Math.floor(r() * 4096))], delayMs: 0, expect: 0 };
    case 'mutated': {
      const b = Buffer.from(valid(false) + '\n');
      for (let i = 0, n = 1 + Math.floor(r() * 4); i < n; i++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      return { chunks: [b], delayMs: 0, expect: 0 };
    }
    case 'truncated': {
      const s = valid(false); // cut short, `lock` might lose its keys too
      return one(s.slice(0, Math.floor(r() * s.length)) + (r() < 0.5 ? '\n' : ''));
    }
    case 'wrong-version':
      return one([
        { id: 1, keyrack: 2, op: 'get', keys: canaries },
        { id: 1, v: 0, op: 'ping' },
        { keyrack: 1, pid: 1, session: null, mode: 'uid-only', gen: 'x' },
        { id: 1.5, op: 'ping' },
        { id: Number.MAX_SAFE_INTEGER + 2, op: 'ping' },
        { id: -1, op: 'get', keys: canaries, extra: { deep: [1, 2, 3] } },
      ].map((f) => JSON.stringify(f)).join('\n') + '\n');
    case 'bad-op':
      return one([
        { id: 1, op: pick(r, ['fly', 'GET', '', '__proto__', 'constructor', 'toString', 'hasOwnProperty']) },
        { id: 2, op: 'get', keys: pick(r, ['A', 7, null, {}, Array.from({ length: 1001 }, (_, i) => `K${i}`), ['bad name'], ['x'.repeat(200)]]) },
        { id: 3, op: 'put', ttlMs: pick(r, [-1, 0, 'x', null]), keys: {} },
        { id: 4, op: 'put', ttlMs: 1000, keys: { F1: { value: pick(r, ['a\u0000b', '\ud800', 7, null]) } } },
        { id: 5, op: 'put', ttlMs: 1000, keys: { F2: { env: {} } } },
        { id: 6, op: 'backoff', record: 'maybe' },
        { id: 7, op: 'export', shell: 'tcsh', cwd: 'relative', env: {} },
        { id: 8, op: 'lock', keys: 'all' },
      ].map((f) => JSON.stringify(f)).join('\n') + '\n{"id":9,"op":"put","ttlMs":1e999,"keys":{}}\n');
    case 'huge-line':
      return one(`{"id":1,"op":"get","keys":["${'A'.repeat(MAX_FRAME + Math.floor(r() * 1000))}"]}\n{"id":2,"op":"get","keys":${JSON.stringify(canaries)}}\n`);
    case 'huge-unterminated': {
      const n = MAX_FRAME + 1 + Math.floor(r() * 65536);
      const chunks: Buffer[] = [];
      for (let left = n; left > 0; left -= 65536) chunks.push(Buffer.alloc(Math.min(65536, left), 0x78));
      return { chunks, delayMs: 0, expect: 0 };
    }
    case 'invalid-utf8': {
      const bad = pick(r, [[0xff, 0xfe], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]]);
      const pre = Buffer.from('{"id":1,"op":"put","ttlMs":1000,"keys":{"F3":{"value":"');
      const post = Buffer.from('"}}}\n{"id":2,"op":"ping"}\n');
      // Split inside the multi-byte sequence, as a socket may.
      const all = Buffer.concat([pre, Buffer.from(bad), post]);
      const at = pre.length + 1;
      return { chunks: [all.subarray(0, at), all.subarray(at)], delayMs: 5, expect: 2 };
    }
    case 'deep-nesting': {
      const d = 1000 + Math.floor(r() * 100_000);
      return one(`{"id":1,"op":"get","keys":${'['.repeat(d)}${']'.repeat(d)}}\n`);
    }
    case 'slow-writer': {
      const s = JSON.stringify({ id: 9, op: 'get', keys: canaries }) + '\n';
      return { chunks: [...Buffer.from(s)].map((b) => Buffer.from([b])), delayMs: 1 + Math.floor(r() * 3), expect: 1 };
    }
    case 'valid-burst': {
      const n = 1 + Math.floor(r() * 50);
      const lines = Array.from({ length: n }, valid);
      return { chunks: [Buffer.from(lines.join('\n') + '\n')], delayMs: 0, expect: n };
    }
    case 'idle':
      return { chunks: [], delayMs: 0, expect: 0 };
    case 'half-close':
      return one(`{"id":1,"op":"get","keys":${JSON.stringify(canaries)}}\n`);
  }
}

interface ConnResult { bytes: number; frames: number; ok: number; err: number; bad: number; closedByDaemon: boolean; hello: boolean }

function runConnection(socket: string, kind: Kind, r: () => number, canaries: string[]): Promise<ConnResult> {
  const p = payload(kind, r, canaries);
  return new Promise((resolve) => {
    const res: ConnResult = { bytes: 0, frames: 0, ok: 0, err: 0, bad: 0, closedByDaemon: false, hello: false };
    let buf = '';
    let finished = false;
    let s: Socket;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      s.destroy();
      resolve(res);
    };
    // Long enough for a slow writer; an idle connection is given up on, not waited out.
    const timer = setTimeout(finish, kind === 'slow-writer' ? 5000 : 1500);
    s = createConnection(socket);
    s.setEncoding('utf8');
    s.on('error', () => { /* EPIPE/ECONNRESET once the daemon hung up */ });
    s.on('close', () => {
      res.closedByDaemon = !finished;
      finish();
    });
    s.on('data', async (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let f: unknown;
        try {
          f = JSON.parse(line);
        } catch {
          res.bad++;
          continue;
        }
        if (typeof f !== 'object' || f === null || Array.isArray(f)) { res.bad++; continue; }
        const o = f as Record<string, unknown>;
        if (!res.hello) {
          if (o.keyrack === undefined) { finish(); return; } // refused: counted by the caller
          res.hello = true;
          void send();
          continue;
        }
        res.frames++;
        if (o.ok === true) res.ok++;
        else res.err++;
      }
      if (res.hello && p.expect > 0 && res.frames >= p.expect) finish();
    });
    async function send(): Promise<void> {
      for (const c of p.chunks) {
        if (finished || s.destroyed) return;
        s.write(c);
        res.bytes += c.length;
        if (p.delayMs > 0) await sleep(p.delayMs);
      }
      if (kind === 'half-close') s.end();
      if (kind === 'idle' || p.expect === 0) setTimeout(finish, kind === 'idle' ? 200 : 300);
    }
  });
}

/** Runs connections of random kinds, `concurrency` at a time, for `seconds` (and at least `minConnections`). */
export async function fuzz(o: FuzzOptions): Promise<FuzzSummary> {
  const r = rng(o.seed);
  const huge = o.hugeShare ?? 0.03;
  const cheap = KINDS.filter((k) => k !== 'huge-line' && k !== 'huge-unterminated');
  const sum: FuzzSummary = {
    seed: o.seed, connections: 0, byKind: {}, bytesSent: 0, framesReceived: 0, okAnswers: 0, errorAnswers: 0,
    closedByDaemon: 0, badFrames: 0, noHello: 0, seconds: 0,
  };
  const t0 = Date.now();
  const deadline = t0 + o.seconds * 1000;
  let started = 0;
  const worker = async () => {
    while (Date.now() < deadline || started < (o.minConnections ?? 0)) {
      started++;
      const kind: Kind = r() < huge ? pick(r, ['huge-line', 'huge-unterminated'] as const) : pick(r, cheap);
      // Each connection gets its own stream, so interleaving does not change what is sent.
      const res = await runConnection(o.socket, kind, rng(Math.floor(r() * 2 ** 32)), o.canaries);
      sum.connections++;
      sum.byKind[kind] = (sum.byKind[kind] ?? 0) + 1;
      sum.bytesSent += res.bytes;
      sum.framesReceived += res.frames;
      sum.okAnswers += res.ok;
      sum.errorAnswers += res.err;
      sum.badFrames += res.bad;
      if (!res.hello) sum.noHello++;
      if (res.closedByDaemon) sum.closedByDaemon++;
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  sum.seconds = (Date.now() - t0) / 1000;
  return sum;
}
