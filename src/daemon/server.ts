/**
 * `keyrack daemon run`: the session daemon. One per login session (a flock on
 * daemonLockPath settles races: socket.ts), non-dumpable, values in memory only. Every
 * connection passes the kernel caller check (peer.ts) before it gets a hello;
 * one bad or slow client only ever loses its own connection.
 */
import { chmodSync, closeSync, unlinkSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { KeyrackError } from '../errors.js';
import { bumpGeneration } from '../generation.js';
import { loadNative } from '../native.js';
import { protectProcess } from '../notrace.js';
import { files, socketPath, uid, type Env } from '../paths.js';
import { isVaultId } from '../registry.js';
import { formatDuration, parseDuration } from './duration.js';
import { AuditLog, callerOf, releaseCaller, type Caller } from './audit.js';
import { Log } from './log.js';
import { Refusals } from './refusals.js';
import { firstFrame, listen, takeLock } from './socket.js';
import { scrubOwnEnv, USER_DAEMON_ENV } from './env.js';
import { callerCheck, checkSocketPath, type CallerCheck, type Verdict } from './peer.js';
import {
  encodeFrame, FrameDecoder, IDLE_TIMEOUT_MS, MAX_FRAME, PROTOCOL_VERSION, parseRequest,
  type DaemonStatus, type Hello, type Request, type Response,
} from './protocol.js';
import { DEFAULT_REFRESH_WINDOW_MS, Store } from './store.js';

/** With no keys held and no client connected for this long, the daemon exits. */
export const IDLE_EXIT_MS = 60_000;
/** A client that lets this much of our output pile up unread is dropped. */
const MAX_UNREAD = 4 * MAX_FRAME;
/** Generous: hundreds of shells may hold a connection for a moment. */
const MAX_CONNECTIONS = 2000;
/** Passphrase back-off: 1 s after the first failure, doubling, at most 30 s. */
const BACKOFF_MAX_MS = 30_000;

function refreshWindow(env: Env, log: Log): number {
  const raw = env.KEYRACK_REFRESH_WINDOW;
  if (raw === undefined || raw === '') return DEFAULT_REFRESH_WINDOW_MS;
  const ms = parseDuration(raw);
  if (ms === null) {
    log.line(`KEYRACK_REFRESH_WINDOW=${JSON.stringify(raw)} is not a duration (e.g. 5m, 30s); using ${formatDuration(DEFAULT_REFRESH_WINDOW_MS)}`);
    return DEFAULT_REFRESH_WINDOW_MS;
  }
  return ms;
}

export async function runDaemon(env: Env = process.env): Promise<number> {
  // Read before scrubOwnEnv: under systemd the log also goes to the journal.
  const userDaemon = env[USER_DAEMON_ENV] === '1';
  const log = new Log(files.daemonLog(env), process.stderr.isTTY === true || env.JOURNAL_STREAM !== undefined);
  let check: CallerCheck;
  let path: string;
  try {
    check = callerCheck(env);
    path = socketPath(env, true);
  } catch (e) {
    log.line(`not starting: ${(e as Error).message}`);
    throw e;
  }
  const taken = takeLock(env);
  if (taken === null) {
    process.stderr.write('keyrack: daemon already running\n');
    log.close();
    return 0;
  }
  const lockFd = taken;
  scrubOwnEnv();
  process.chdir('/');

  // No core file, non-dumpable (the latter only with the native module).
  const protection = protectProcess();
  const dumpable: boolean | null = loadNative() ? !protection.nonDumpable : null;

  // We hold the lock, so whatever is at the path is a dead daemon's leftover.
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new KeyrackError(`cannot remove the stale socket ${path}: ${(e as Error).message}`);
  }

  // A user-wide daemon (uid-only, KEYRACK_USER_DAEMON=1) serves shells of any session;
  // their hooks watch their own session's generation file, so it bumps those too.
  const shared = userDaemon && check.mode === 'uid-only';
  const sessions = new Set<number>();
  const bumpAll = (): string => {
    if (shared) for (const sid of sessions) bumpGeneration(env, sid);
    return bumpGeneration(env);
  };
  let gen = bumpAll();
  const startedAt = Date.now();
  const window = refreshWindow(env, log);
  const conns = new Set<Socket>();
  const backoff = { failures: 0, last: 0 };
  let idleTimer: NodeJS.Timeout | undefined;
  let stopping = false;

  const audit = new AuditLog(files.auditLog(env), { warn: (l) => log.line(l) });
  const store = new Store({
    refreshWindowMs: window,
    log: (l) => log.line(l),
    onChange: () => {
      gen = bumpAll();
      armIdle();
    },
    canRefresh: (source) => isVaultId(source.vault),
    async refresh(name, source) {
      if (!isVaultId(source.vault)) throw new Error(`unknown vault ${source.vault}`);
      const { vaultFor } = await import('../vaults/index.js');
      const vault = await vaultFor(source.vault);
      if (!vault.refreshable) throw new Error(`${source.vault} values are not refreshable`);
      const entry = source.profile === undefined ? { vault: source.vault } : { vault: source.vault, profile: source.profile };
      const got = (await vault.fetch([{ name, entry }], {
        env: process.env,
        interactive: false,
        passphrase: () => Promise.reject(new Error('no passphrase prompt inside the daemon')),
        progress: (m) => log.line(`refresh ${name}: ${m}`),
      })).get(name);
      if (got === undefined) throw new Error('the vault returned nothing');
      if (got instanceof Error) throw got;
      return got;
    },
  });

  // Paused: nothing is read from a caller before it passed the check (serve resumes it).
  const server = createServer({ pauseOnConnect: true });
  const refusals = new Refusals();
  server.maxConnections = MAX_CONNECTIONS;

  function armIdle(): void {
    clearTimeout(idleTimer);
    idleTimer = undefined;
    if (!stopping && !shared && store.size === 0 && conns.size === 0) {
      idleTimer = setTimeout(() => shutdown(`idle and empty for ${IDLE_EXIT_MS / 1000}s`), IDLE_EXIT_MS);
    }
  }

  /** Drops every value and connection and stops listening (libuv unlinks the socket path). */
  function stopServing(): void {
    stopping = true;
    store.clear();
    clearTimeout(idleTimer);
    server.close();
    for (const c of conns) c.destroy();
    refusals.closeAll();
  }
  function closeFiles(): void {
    audit.close();
    log.close();
    closeSync(lockFd); // drops the flock: the next daemon may start
  }
  function shutdownQuiet(): void {
    stopServing();
    closeFiles();
  }
  function shutdown(why: string): void {
    if (stopping) return;
    stopServing();
    bumpAll(); // shells re-export: every key is gone
    log.line(`stopping: ${why}; memory purged`);
    closeFiles();
    process.exit(0);
  }

  function backoffDelay(): number {
    if (backoff.failures === 0) return 0;
    const wait = Math.min(1000 * 2 ** (backoff.failures - 1), BACKOFF_MAX_MS);
    return Math.max(0, backoff.last + wait - Date.now());
  }

  function status(): DaemonStatus {
    return {
      pid: process.pid, session: check.session, mode: check.mode, check: check.describe(),
      startedAt, socket: path, gen, dumpable, refreshWindowMs: window, shared, keys: store.status(),
    };
  }

  /** caller: who is on this connection (audit.record takes it as `peer`). */
  function handle(req: Request, who: string, reply: (r: Response, after?: () => void) => void, caller: Caller): void {
    switch (req.op) {
      case 'ping':
        return reply({ id: req.id, ok: true, gen });
      case 'get': {
        const keys = store.get(req.keys);
        audit.record({ op: 'get', keys: Object.keys(keys), peer: caller }); // before the values leave
        return reply({ id: req.id, ok: true, keys });
      }
      case 'put': {
        store.put(req.keys, req.ttlMs, req.idleMs);
        const idle = req.idleMs === undefined ? '' : `, idle ${formatDuration(req.idleMs)}`;
        log.line(`put ${Object.keys(req.keys).join(',')} for ${formatDuration(req.ttlMs)}${idle} (${who})`);
        return reply({ id: req.id, ok: true, gen });
      }
      case 'lock': {
        const removed = store.lock(req.keys);
        log.line(`lock ${req.keys ? req.keys.join(',') : 'all'}: removed ${removed.length} (${who})`);
        return reply({ id: req.id, ok: true, removed, gen });
      }
      case 'status':
        return reply({ id: req.id, ok: true, status: status() });
      case 'stop':
        return reply({ id: req.id, ok: true }, () => shutdown(`stop requested (${who})`));
      case 'backoff':
        if (req.record === 'failure') {
          backoff.failures++;
          backoff.last = Date.now();
          log.line(`wrong passphrase (failure ${backoff.failures}) (${who})`);
        } else if (req.record === 'success') {
          backoff.failures = 0;
        }
        return reply({ id: req.id, ok: true, delayMs: backoffDelay() });
      case 'export':
      case 'exec-env':
        // Loaded on first use: only the native fast paths need it.
        void import('./export-op.js')
          .then(({ answerFast }) => answerFast(req, (names) => store.get(names)))
          .then(
            (r) => {
              audit.record({ op: r.audit, keys: r.handed, peer: caller });
              reply({ id: req.id, ok: true, ...r.fields });
            },
            (e: unknown) => {
              log.line(`error in ${req.op} (${who}): ${(e as Error).message}`);
              reply({ id: req.id, ok: false, error: `${req.op} failed` });
            },
          );
        return;
    }
  }

  /** A flood of refused callers costs little (refusals.ts); the audit record and log line are rate-limited. */
  function refuse(s: Socket, verdict: Verdict & { ok: false }): void {
    if (audit.refused(verdict, verdict.reason)) log.line(`refused pid ${verdict.pid ?? '?'} uid ${verdict.uid ?? '?'}: ${verdict.reason}`);
    refusals.refuse(s, verdict.reason);
  }

  function serve(s: Socket, verdict: Verdict & { ok: true }): void {
    s.on('error', () => { /* a client vanished; 'close' cleans up */ });
    conns.add(s);
    armIdle();
    s.on('close', () => {
      conns.delete(s);
      armIdle();
    });
    const who = verdict.pid === null ? 'unchecked peer' : `pid ${verdict.pid}`;
    const caller = callerOf(verdict);
    s.on('close', () => releaseCaller(caller));
    if (shared && caller.session !== null && sessions.size < 256) sessions.add(caller.session);
    const hello: Hello = { keyrack: PROTOCOL_VERSION, pid: process.pid, session: check.session, mode: check.mode, gen, ...(shared ? { shared } : {}) };
    const decoder = new FrameDecoder();
    s.setEncoding('utf8');
    s.setTimeout(IDLE_TIMEOUT_MS, () => s.destroy());
    const reply = (r: Response, after?: () => void) => {
      if (s.destroyed) return after?.();
      if (s.writableLength > MAX_UNREAD) {
        log.line(`dropped ${who}: it does not read its answers`);
        s.destroy();
        return;
      }
      s.write(encodeFrame(r), after ? () => after() : undefined);
    };
    s.on('data', (chunk: string) => {
      let frames: unknown[];
      try {
        frames = decoder.push(chunk);
      } catch (e) {
        log.line(`closed ${who}: ${(e as Error).message}`);
        s.destroy();
        return;
      }
      for (const f of frames) {
        if (s.destroyed || stopping) return;
        const req = parseRequest(f as Record<string, unknown>);
        if ('error' in req) {
          if (req.id === undefined) {
            log.line(`closed ${who}: ${req.error}`);
            s.destroy();
            return;
          }
          reply({ id: req.id, ok: false, error: req.error });
          continue;
        }
        try {
          handle(req, who, reply, caller);
        } catch (e) {
          log.line(`error in ${req.op} (${who}): ${(e as Error).message}`);
          reply({ id: req.id, ok: false, error: `internal error in ${req.op}` });
        }
      }
    });
    s.write(encodeFrame(hello));
    s.resume();
  }

  server.on('connection', (s: Socket) => {
    try {
      // The caller check before anything else: no hello, JSON or state for a refused peer.
      const verdict = check.verify(s);
      if (verdict.ok) serve(s, verdict);
      else refuse(s, verdict);
    } catch (e) {
      log.line(`connection setup failed: ${(e as Error).message}`);
      s.destroy();
    }
  });
  server.on('error', (e) => log.line(`server error: ${e.message}`));

  try {
    await listen(server, path);
  } catch (e) {
    log.line(`cannot listen on ${path}: ${(e as Error).message}`);
    throw new KeyrackError(`cannot listen on ${path}: ${(e as Error).message}`);
  }
  chmodSync(path, 0o600);
  if (!check.native) {
    // File permissions are all that is left: they must really be private.
    try {
      checkSocketPath(path);
    } catch (e) {
      log.line(`not starting: ${(e as Error).message}`);
      server.close(); // Node unlinks the socket path on close
      throw e;
    }
  }

  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => shutdown(sig));
  // A bug in one request must not take everyone's keys down; it is logged instead.
  process.on('uncaughtException', (e) => log.line(`uncaught: ${e.message}`));

  // Self-test: our own connection must pass our own check. If /proc or the kernel
  // will not tell us who a peer is (hidepid, no pidfd), nobody would pass: say so now.
  const self = await firstFrame(path);
  if (self.error !== undefined) {
    log.line(`not starting: the caller check refuses the daemon's own connection: ${self.reason ?? self.error}`);
    shutdownQuiet();
    throw new KeyrackError(`the daemon's caller check does not work here (${self.reason ?? self.error}); see ${files.daemonLog(env)}`);
  }

  const modeLine = check.mode === 'session'
    ? `session ${check.session}${userDaemon ? ` (${USER_DAEMON_ENV}=1 ignored: a daemon with a session serves only it)` : ''}`
    : `uid-only: no audit session id${shared ? `; user-wide (${USER_DAEMON_ENV}=1): serves every login session of uid ${uid()}, never exits when idle` : ''}`;
  log.line(
    `started: uid ${uid()}, ${modeLine}, check: ${check.describe()}, socket ${path}, ` +
    `${dumpable === false ? 'non-dumpable' : 'DUMPABLE (no native module)'}, refresh window ${formatDuration(window)}`,
  );
  armIdle();
  // Serve until shutdown() exits the process.
  await new Promise<never>(() => { /* forever */ });
  return 0;
}
