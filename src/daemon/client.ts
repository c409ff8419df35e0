/**
 * Talking to the session daemon. Loaded by `export` on every cd, so it imports
 * only node built-ins, paths and the protocol; vaults and the server stay out.
 *
 * Every connection checks the daemon first, by the kernel's word (peer.ts
 * connectServer: its uid ours, and in our own login session), and sends nothing to
 * a socket that fails the check.
 */
import { spawn } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HeldKey, Unlocked } from '../secret.js';
import type { Program } from './protocol.js';
import { KeyrackError, UserError } from '../errors.js';
import { files, sessionId, socketPath, userSocketPath, type Env } from '../paths.js';
import { daemonEnv } from './env.js';
import { connectServer, shownPath, type ServerCheck } from './peer.js';
import { userDaemonOptedIn } from './user-daemon.js';
import {
  encodeFrame, FrameDecoder, GET_CHUNK_KEYS, MAX_ANSWER_FRAME, MAX_KEYS, PROTOCOL_VERSION, PUT_CHUNK_BYTES,
  type Hello, type OkResponse, type Request, type Response,
} from './protocol.js';

/** A request without its id: the connection numbers them. */
export type RequestBody = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

const HELLO_TIMEOUT_MS = 5000;
const REQUEST_TIMEOUT_MS = 15_000;
const START_TIMEOUT_MS = 10_000;

interface Pending {
  resolve(r: OkResponse): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export class DaemonConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedError: Error | undefined;

  private constructor(
    private readonly sock: Socket, readonly path: string, readonly hello: Hello,
    /** How this client checked the daemon before talking to it (status reports it). */
    readonly check: ServerCheck,
    private readonly decoder: FrameDecoder,
  ) {
    sock.on('data', (d: string) => this.onData(d));
    sock.on('close', () => this.fail(new KeyrackError(`the keyrack daemon closed the connection (${shownPath(path)})`)));
    sock.on('error', (e) => this.fail(new KeyrackError(`daemon connection: ${e.message}`)));
  }

  /**
   * Connects to this session's daemon. Null when none is running (no socket, or a
   * stale one). Throws when the socket is served by another uid or another login
   * session (peer.ts connectServer), or the daemon refuses us.
   *
   * A shell in a login session whose session has no daemon uses the user-wide one
   * (uid-only, started with KEYRACK_USER_DAEMON=1, e.g. by systemd --user) only when
   * the user opted in (userDaemonOptedIn) — never on the daemon's word — and only one
   * that says it serves every session (it wakes their hooks); any other is left
   * alone, without a byte sent to it.
   */
  static async open(env: Env = process.env): Promise<DaemonConnection | null> {
    const own = await DaemonConnection.openAt(socketPath(env, false), false, env);
    if (own || sessionId() === null || !userDaemonOptedIn(env)) return own;
    // Opportunistic: whatever is wrong there, this session simply has no daemon yet.
    const user = await DaemonConnection.openAt(userSocketPath(env), true, env).catch(() => null);
    if (user && user.hello.mode === 'uid-only' && user.hello.shared === true) return user;
    user?.close();
    return null;
  }

  private static async openAt(path: string, userWide: boolean, env: Env): Promise<DaemonConnection | null> {
    const checked = await connectServer(path, { userWide, timeoutMs: HELLO_TIMEOUT_MS }, env);
    if (!checked) return null;
    const { sock, check } = checked;
    const p = shownPath(path);
    return new Promise((resolve, reject) => {
      const decoder = new FrameDecoder(MAX_ANSWER_FRAME);
      let settled = false;
      /** Detaches this bootstrap's listeners (the connection adds its own). */
      const detach = () => {
        settled = true;
        clearTimeout(timer);
        sock.off('data', push).off('error', onError).off('close', onClose);
      };
      const fail = (e: Error) => {
        if (settled) return;
        detach();
        sock.destroy();
        reject(e);
      };
      const timer = setTimeout(() => fail(new KeyrackError(`the keyrack daemon at ${p} did not answer; try keyrack daemon stop`)), HELLO_TIMEOUT_MS);
      const onFrames = (frames: unknown[]) => {
        const first = frames[0] as Record<string, unknown> | undefined;
        if (!first) return;
        if (first.error === 'refused') return fail(new UserError(`the keyrack daemon refused this process: ${String(first.reason)}`));
        if (first.keyrack !== PROTOCOL_VERSION) {
          return fail(new KeyrackError(`the keyrack daemon at ${p} speaks protocol ${JSON.stringify(first.keyrack)}, this keyrack speaks ${PROTOCOL_VERSION}; restart it: keyrack daemon stop`));
        }
        detach();
        const conn = new DaemonConnection(sock, path, first as unknown as Hello, check, decoder);
        resolve(conn);
        // Anything that arrived with the hello is a response: hand it on.
        for (const f of frames.slice(1)) conn.onFrame(f);
      };
      function push(chunk: string): void {
        try {
          onFrames(decoder.push(chunk));
        } catch (e) {
          fail(new KeyrackError(`the keyrack daemon at ${p} sent a bad frame: ${(e as Error).message}`));
        }
      }
      const onError = (e: Error) => fail(new KeyrackError(`cannot talk to the keyrack daemon at ${p}: ${e.message}`));
      const onClose = () => fail(new KeyrackError(`the keyrack daemon at ${p} closed the connection before saying hello`));
      sock.setEncoding('utf8');
      sock.on('error', onError).on('close', onClose).on('data', push);
      // The native check read the hello already (it had to know who wrote it).
      if (checked.hello !== null) push(`${checked.hello}\n`);
    });
  }

  /** The daemon's answer to `body`, typed by its op (the daemon was checked on connect: its answers are trusted). */
  request<B extends RequestBody>(body: B, timeoutMs = REQUEST_TIMEOUT_MS): Promise<OkResponse<B['op']>> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new KeyrackError(`the keyrack daemon did not answer ${body.op} within ${timeoutMs / 1000}s`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (r: OkResponse) => void, reject, timer });
      this.sock.write(encodeFrame({ ...body, id }));
    });
  }

  close(): void {
    this.sock.end();
    this.sock.destroy();
  }

  private onData(chunk: string): void {
    let frames: unknown[];
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      this.fail(new KeyrackError(`the keyrack daemon sent a bad frame: ${(e as Error).message}`));
      this.sock.destroy();
      return;
    }
    for (const f of frames) this.onFrame(f);
  }

  private onFrame(f: unknown): void {
    const r = f as Response;
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    clearTimeout(p.timer);
    if (r.ok) p.resolve(r);
    else p.reject(new KeyrackError(`the keyrack daemon: ${r.error}`));
  }

  private fail(e: Error): void {
    this.closedError ??= e;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(e);
    }
    this.pending.clear();
  }
}

/** Runs fn on a connection to the running daemon; null when none runs. */
export async function withDaemon<T>(env: Env, fn: (c: DaemonConnection) => Promise<T>): Promise<T | null> {
  const c = await DaemonConnection.open(env);
  if (!c) return null;
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

/**
 * The held values among `names` (absent names are simply missing), or null when
 * no daemon is running. Never starts one. Used by `get`, `export` and `exec`.
 */
export async function getKeys(names: string[], env: Env, o: { program?: Program; purpose?: 'export' } = {}): Promise<Record<string, HeldKey> | null> {
  return withDaemon(env, async (c) => {
    if (names.length <= GET_CHUNK_KEYS) return (await c.request({ op: 'get', keys: names, ...o })).keys;
    const out: Record<string, HeldKey> = Object.create(null) as Record<string, HeldKey>;
    for (const part of chunks(names, GET_CHUNK_KEYS)) Object.assign(out, (await c.request({ op: 'get', keys: part, ...o })).keys);
    return out;
  });
}

/** `list` in pieces of at most `size` (lock names more keys than one request may carry). */
export function chunks<T>(list: readonly T[], size: number = MAX_KEYS): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/**
 * unlock's values as put requests the daemon takes: at most MAX_KEYS keys and
 * about PUT_CHUNK_BYTES each (one value is at most 32 KiB: src/limits.ts), so
 * 10,000 keys are several puts, never the daemon's refusal.
 */
export function putChunks(put: Readonly<Record<string, Unlocked>>): Array<Record<string, Unlocked>> {
  const out: Array<Record<string, Unlocked>> = [];
  let cur: Record<string, Unlocked> = {};
  let n = 0;
  let bytes = 0;
  for (const [name, v] of Object.entries(put)) {
    const size = Buffer.byteLength(JSON.stringify(v)) + name.length + 8;
    if (n > 0 && (n >= MAX_KEYS || bytes + size > PUT_CHUNK_BYTES)) {
      out.push(cur);
      cur = {};
      n = 0;
      bytes = 0;
    }
    cur[name] = v;
    n++;
    bytes += size;
  }
  if (n > 0) out.push(cur);
  return out;
}

function lastLogLine(env: Env): string {
  try {
    const lines = readFileSync(files.daemonLog(env), 'utf8').trimEnd().split('\n');
    return lines[lines.length - 1] ?? '';
  } catch {
    return '';
  }
}

/**
 * V8 flags for the long-lived daemon: a small young generation, so bursts of
 * requests (a cd in 200 shells) do not leave it holding tens of MB it no longer
 * uses; `gc` exposed, for the one full collection after a burst (burst-gc.ts).
 */
const DAEMON_NODE_FLAGS = ['--max-semi-space-size=1', '--optimize-for-size', '--expose-gc'];
/**
 * glibc's malloc for the daemon: one arena, not one per thread (V8's helper threads
 * each kept theirs, grown in a burst and never given back): 4–6 MB less RSS after
 * 500 concurrent exports (bench/scale.ts). The daemon allocates from one thread anyway.
 */
const DAEMON_MALLOC_ENV = { MALLOC_ARENA_MAX: '1' };

/**
 * Connects to the daemon, starting it first when none runs: `node <this bundle>
 * daemon run`, detached, stdio to /dev/null, with a whitelisted environment. Two
 * racing starters both end up talking to the one daemon that won its flock.
 */
export async function startDaemon(env: Env, entry: string | undefined = process.argv[1]): Promise<{ conn: DaemonConnection; started: boolean }> {
  const existing = await DaemonConnection.open(env);
  if (existing) return { conn: existing, started: false };
  if (!entry) throw new KeyrackError('cannot find the keyrack program to start the daemon');
  socketPath(env, true); // creates (and checks) the runtime dir, so errors about it surface here
  const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, realpathSync(entry), 'daemon', 'run'], {
    detached: true, stdio: 'ignore', env: { ...daemonEnv(env), ...DAEMON_MALLOC_ENV }, cwd: '/',
  });
  let exit: number | null = null;
  let spawnError: Error | undefined;
  child.on('exit', (code, signal) => { exit = code ?? (signal ? 128 : 1); });
  child.on('error', (e) => { spawnError = e; });
  child.unref();
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const conn = await DaemonConnection.open(env);
    if (conn) return { conn, started: true };
    if (spawnError) throw new KeyrackError(`cannot start the keyrack daemon: ${spawnError.message}`);
    // Exit 0 means another starter won the lock: its daemon is about to answer.
    if (exit !== null && exit !== 0) {
      const why = lastLogLine(env).replace(/^\S+ \S+ /, '');
      throw new KeyrackError(`the keyrack daemon failed to start (exit ${exit})${why ? `: ${why}` : ''} — see ${files.daemonLog(env)}`);
    }
    await sleep(20);
  }
  throw new KeyrackError(`the keyrack daemon did not come up within ${START_TIMEOUT_MS / 1000}s — see ${files.daemonLog(env)}`);
}
