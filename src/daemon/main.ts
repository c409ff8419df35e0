/**
 * `keyrack daemon run`: the session daemon's start-up. One per login session (a
 * flock on daemonLockPath settles races: socket.ts), non-dumpable, values in memory
 * only, its environment scrubbed. Puts the parts together — the store, the logs,
 * the lifecycle, the ops and the connections (server.ts) — then listens, checks
 * that its own caller check lets it in, and serves until the lifecycle ends it.
 */
import { chmodSync, closeSync, unlinkSync } from 'node:fs';
import { KeyrackError } from '../errors.js';
import { bumpGeneration } from '../generation.js';
import { loadNative } from '../native.js';
import { protectProcess } from '../notrace.js';
import { files, socketPath, uid, type Env } from '../paths.js';
import { formatDuration, parseDuration } from '../duration.js';
import { AuditLog } from './audit.js';
import { Backoff } from './backoff.js';
import { Lifecycle } from './lifecycle.js';
import { Log } from './log.js';
import type { Daemon } from './ops.js';
import { callerCheck, checkSocketPath, type CallerCheck } from './peer.js';
import { PROTOCOL_VERSION, type DaemonStatus, type Hello } from './protocol.js';
import { canRefresh, refreshFrom } from './refresh.js';
import { createDaemonServer } from './server.js';
import { firstFrame, listen, takeLock } from './socket.js';
import { scrubOwnEnv, USER_DAEMON_ENV } from './env.js';
import { DEFAULT_REFRESH_WINDOW_MS, Store } from './store.js';

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

/** Runs the daemon in this process; returns only when another daemon already serves the session. */
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

  const audit = new AuditLog(files.auditLog(env), { warn: (l) => log.line(l) });
  const store = new Store({
    refreshWindowMs: window,
    log: (l) => log.line(l),
    onChange: () => {
      gen = bumpAll();
      life.armIdle();
    },
    canRefresh,
    refresh: (name, source, current) => refreshFrom(name, source, current, log),
  });

  const status = (): DaemonStatus => ({
    pid: process.pid, session: check.session, mode: check.mode, check: check.describe(),
    startedAt, socket: path, gen, dumpable, refreshWindowMs: window, shared, keys: store.status(),
  });
  const daemon: Daemon = { store, audit, log, backoff: new Backoff(), gen: () => gen, status, shutdown: (why) => life.shutdown(why), hookAsked: () => life.hookAsked() };
  const life = new Lifecycle({
    store, shared,
    stopListening: () => server.close(),
    log: (l) => log.line(l),
    bump: () => { bumpAll(); },
    closeFiles: () => {
      audit.close();
      log.close();
      closeSync(lockFd); // drops the flock: the next daemon may start
    },
  });
  const server = createDaemonServer({
    check, audit, log, daemon, life,
    hello: (): Hello => ({ keyrack: PROTOCOL_VERSION, pid: process.pid, session: check.session, mode: check.mode, gen, ...(shared ? { shared } : {}) }),
    // A user-wide daemon wakes the shells of every session it served.
    sawSession: (sid) => {
      if (shared && sessions.size < 256) sessions.add(sid);
    },
  });

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

  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => life.shutdown(sig));
  // A bug in one request must not take everyone's keys down; it is logged instead.
  process.on('uncaughtException', (e) => log.line(`uncaught: ${e.message}`));

  // Self-test: our own connection must pass our own check. If /proc or the kernel
  // will not tell us who a peer is (hidepid, no pidfd), nobody would pass: say so now.
  const self = await firstFrame(path);
  if (self.error !== undefined) {
    log.line(`not starting: the caller check refuses the daemon's own connection: ${self.reason ?? self.error}`);
    life.shutdownQuiet();
    throw new KeyrackError(`the daemon's caller check does not work here (${self.reason ?? self.error}); see ${files.daemonLog(env)}`);
  }

  const modeLine = check.mode === 'session'
    ? `session ${check.session}${userDaemon ? ` (${USER_DAEMON_ENV}=1 ignored: a daemon with a session serves only it)` : ''}`
    : `uid-only: no audit session id${shared ? `; user-wide (${USER_DAEMON_ENV}=1): serves every login session of uid ${uid()}, never exits when idle` : ''}`;
  log.line(
    `started: uid ${uid()}, ${modeLine}, check: ${check.describe()}, socket ${path}, ` +
    `${dumpable === false ? 'non-dumpable' : 'DUMPABLE (no native module)'}, refresh window ${formatDuration(window)}`,
  );
  life.armIdle();
  // Serve until the lifecycle exits the process.
  await new Promise<never>(() => { /* forever */ });
  return 0;
}
