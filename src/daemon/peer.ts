/**
 * Who is on the other end of the socket, as the kernel says — both ways.
 *
 * Daemon side (every connection): SO_PEERCRED uid must equal ours; then the peer's
 * audit session id (read while the pid is pinned by a pidfd, so a recycled pid
 * cannot lend its session) must equal the daemon's. A daemon whose own session is
 * unset runs uid-only, and says so.
 *
 * Client side, before we send a single byte: the same check of the daemon — its uid
 * ours and the process behind the socket in our own audit session (uid-only when we
 * have none, or when the user opted in to a user-wide daemon). So neither another
 * user nor another login session of ours can pose as the daemon: all sessions of a
 * uid share the runtime directory.
 *
 * Without the native module there is no correct per-connection check (Node exposes
 * no SO_PEERCRED, /proc/net/unix has no peer column, and `ss -xp | grep inode`
 * matches both ends). The daemon then refuses to start unless the user sets
 * KEYRACK_INSECURE_NO_NATIVE=1, which leaves only the file permissions: a 0600
 * socket in a 0700 directory of ours, which the kernel checks on connect().
 */
import type { Verified } from '../view-input.js';
import { closeSync, constants, lstatSync, openSync, type Stats } from 'node:fs';
import { createConnection, Socket } from 'node:net';
import { dirname } from 'node:path';
import { KeyrackError, UserError } from '../errors.js';
import { buildHint, loadNative, nativeLoadError, type DaemonSocket } from '../native.js';
import { sessionId, uid as myUid } from '../paths.js';

const NAMED_ESCAPES: Record<string, string> = { '\x1b': '\\e', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Control characters in a path shown as escapes (\e, \x07, \n …), so a message cannot drive the terminal. */
export function shownPath(p: string): string {
  return p.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => NAMED_ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Set to 1 to run without the native module (file permissions only; no session check). */
export const INSECURE_ENV = 'KEYRACK_INSECURE_NO_NATIVE';

export function insecureAllowed(env: NodeJS.ProcessEnv): boolean {
  return env[INSECURE_ENV] === '1';
}

/** The OS file descriptor under a connected net.Socket (libuv keeps it on the handle). */
export function socketFd(s: Socket): number {
  const fd = (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new KeyrackError('socket has no file descriptor');
  return fd;
}

/** A directory fd on /proc/<pid>, or null when that process is gone. */
export function openProcDir(pid: number): number | null {
  try {
    return openSync(`/proc/${pid}`, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch {
    return null;
  }
}

function closeFd(fd: number | null): void {
  if (fd !== null) closeSync(fd);
}

/**
 * session: the peer's audit session as the kernel reported it (null: unset or
 * unknown). proc: its /proc/<pid> directory, opened before the pid was last seen
 * pinned, so it is the caller's and not a recycled pid's (the audit log reads exe
 * and cwd through it).
 */
export type Verdict =
  | { ok: true; pid: number | null; uid: number | null; session?: number | null; proc?: number | null }
  | { ok: false; reason: string; pid: number | null; uid: number | null; session?: number | null };

export interface CallerCheck {
  readonly mode: 'session' | 'uid-only';
  /** The daemon's audit session id; null when unset (uid-only). */
  readonly session: number | null;
  readonly native: boolean;
  /** One line for status/doctor/log, e.g. "SO_PEERCRED uid + audit session via SO_PEERPIDFD". */
  describe(): string;
  verify(s: Socket): Verdict;
}

/**
 * The daemon's check. Throws (the daemon must not start) when the native module
 * is missing and the user has not explicitly accepted the weaker fallback.
 */
export function callerCheck(env: NodeJS.ProcessEnv): CallerCheck {
  const addon = loadNative();
  const uid = myUid();
  const session = sessionId();
  if (!addon) {
    if (!insecureAllowed(env)) {
      throw new KeyrackError(
        `the native peer-credential module is missing (${nativeLoadError()}); the daemon will not run without ` +
        `a kernel caller check. To build it: ${buildHint()}; or set ${INSECURE_ENV}=1 ` +
        'to accept file-permission-only protection (any process of your uid, in any session, can read your keys)',
      );
    }
    return {
      mode: 'uid-only', session: null, native: false,
      describe: () => `socket file permissions only (native module missing; ${INSECURE_ENV}=1)`,
      verify: () => ({ ok: true, pid: null, uid: null }),
    };
  }
  if (session === null) {
    return {
      mode: 'uid-only', session: null, native: true,
      describe: () => 'SO_PEERCRED uid only (uid-only: no audit session id)',
      verify(s) {
        let cred;
        try {
          cred = addon.peerCred(socketFd(s));
        } catch (e) {
          return { ok: false, reason: `cannot read peer credentials: ${(e as Error).message}`, pid: null, uid: null };
        }
        if (cred.uid !== uid) return { ok: false, reason: `peer uid ${cred.uid} is not the daemon's uid ${uid}`, pid: cred.pid, uid: cred.uid };
        // Not checked here, only reported (audit log): a user-wide daemon serves several sessions.
        let session: number | null = null;
        let proc = openProcDir(cred.pid);
        try {
          session = addon.peerInfo(socketFd(s)).sessionId;
        } catch {
          // The peer is gone already: nothing to report, and its pid may be another's now.
          closeFd(proc);
          proc = null;
        }
        return { ok: true, pid: cred.pid, uid: cred.uid, session, proc };
      },
    };
  }
  let pinnedBy = 'a pidfd';
  return {
    mode: 'session', session, native: true,
    describe: () => `SO_PEERCRED uid + audit session ${session} via ${pinnedBy}`,
    verify(s) {
      let fd: number;
      let pid: number;
      try {
        fd = socketFd(s);
        // uid first: a foreign uid is refused without touching its /proc entry.
        const cred = addon.peerCred(fd);
        if (cred.uid !== uid) return { ok: false, reason: `peer uid ${cred.uid} is not the daemon's uid ${uid}`, pid: cred.pid, uid: cred.uid };
        pid = cred.pid;
      } catch (e) {
        return { ok: false, reason: `cannot read peer credentials: ${(e as Error).message}`, pid: null, uid: null };
      }
      const pinned = (proc: number | null) => {
        try {
          return addon.peerInfo(fd);
        } catch (e) {
          closeFd(proc);
          return { ok: false as const, reason: `cannot check the peer's session: ${(e as Error).message}`, pid: null, uid: null };
        }
      };
      // The session first, with nothing opened: a flood of refused peers must stay cheap.
      const first = pinned(null);
      if ('ok' in first) return first;
      pinnedBy = first.pinnedBy;
      if (first.sessionId !== session) {
        const theirs = first.sessionId === null ? 'unset' : String(first.sessionId);
        return { ok: false, reason: `peer audit session ${theirs} is not the daemon's session ${session}`, pid: first.pid, uid: first.uid, session: first.sessionId };
      }
      // Its /proc dir, proved the caller's by a second pinned check after it was opened
      // (a recycled pid cannot lend its exe and cwd to the audit log).
      const proc = openProcDir(pid);
      const info = pinned(proc);
      if ('ok' in info) return info;
      if (info.sessionId !== session || info.pid !== pid) {
        closeFd(proc);
        return { ok: false, reason: 'the peer changed during the check', pid: info.pid, uid: info.uid, session: info.sessionId };
      }
      return { ok: true, pid: info.pid, uid: info.uid, session: info.sessionId, proc };
    },
  };
}

function describeOwner(st: Stats): string {
  return `uid ${st.uid}, mode ${(st.mode & 0o777).toString(8)}`;
}

/**
 * Without the native module (and only with KEYRACK_INSECURE_NO_NATIVE=1) the client
 * can still refuse a socket that someone else could have planted: the socket and its
 * directory must be ours and the directory writable by nobody else.
 */
export function checkSocketPath(path: string): void {
  const uid = myUid();
  const st = lstatSync(path);
  const dir = lstatSync(dirname(path));
  if (!st.isSocket() || st.uid !== uid) throw new UserError(`refusing ${shownPath(path)}: it is not a socket of yours (${describeOwner(st)}); remove it`);
  if (!dir.isDirectory() || dir.uid !== uid || (dir.mode & 0o022) !== 0) {
    throw new UserError(`refusing ${shownPath(path)}: its directory is not private to you (${describeOwner(dir)}); chmod 700 ${shownPath(dirname(path))}`);
  }
}

/**
 * How this client checked the daemon before talking to it. `session`: its uid is
 * ours and it runs in our audit session; `uid-only`: we have no audit session, so
 * the uid is all there is to check; `user-wide, uid-only`: the user opted in to a
 * user-wide daemon (docs/systemd.md), which serves every session; `file permissions
 * only`: no native module (KEYRACK_INSECURE_NO_NATIVE=1).
 */
export type ServerCheck = Verified;

export interface ServerSocket {
  sock: Socket;
  /** The daemon's first line, already read by the check; null: still to be read from sock. */
  hello: string | null;
  check: ServerCheck;
}

/** Why the daemon at `path` was refused, for the user: which socket, and who serves it. */
function refusal(r: DaemonSocket, path: string, mine: number | null): Error {
  const p = shownPath(path);
  const advice = `someone may have planted it — remove it: rm ${p}`;
  switch (r.status) {
    case 'foreign-uid':
      return new UserError(`refusing the daemon socket ${p}: it is served by uid ${r.uid} (pid ${r.pid}), not by you (uid ${myUid()}); ${advice}`);
    case 'foreign-session':
      return new UserError(
        `refusing the daemon socket ${p}: it is served by pid ${r.pid} in audit session ${r.session ?? 'unset'}, ` +
        `not by this login session (${mine ?? 'unset'}); another login of yours may have planted it — remove it: rm ${p}`,
      );
    case 'gone':
      return new UserError(`refusing the daemon socket ${p}: the process that listens on it (pid ${r.pid}) has exited and something else answers; ${advice}`);
    case 'not-sender': {
      // The pid SO_PEERCRED names is alive and in this session, but it is not who answers.
      const who = r.sender === r.pid ? `pid ${r.pid} started after this client connected`
        : `the answer came from ${r.sender !== undefined && r.sender > 0 ? `pid ${r.sender}` : 'another process'}`;
      return new UserError(`refusing the daemon socket ${p}: its pid ${r.pid} now names a process of this session that did not answer (${who}): a recycled pid; ${advice}`);
    }
    case 'no-hello':
      return new KeyrackError(`the keyrack daemon at ${p} closed the connection before saying hello`);
    case 'timeout':
      return new KeyrackError(`the keyrack daemon at ${p} did not answer; try keyrack daemon stop`);
    default:
      if (r.code === 'EACCES') return new UserError(`cannot connect to ${p}: permission denied (is it someone else's socket? remove it)`);
      return new KeyrackError(`cannot connect to the keyrack daemon at ${p}: ${r.error ?? r.status}`);
  }
}

/**
 * Connects to the daemon at `path` and checks it before sending a single byte, as
 * the daemon checks its callers: SO_PEERCRED uid ours, and the process behind the
 * socket in this process's own audit session (native/peer_check.h) — unless we have
 * none, or `userWide` (the user opted in): then uid-only. Null when no daemon
 * listens there; throws, naming the socket and who serves it, when it is refused.
 */
export async function connectServer(path: string, o: { userWide: boolean; timeoutMs: number }, env: NodeJS.ProcessEnv): Promise<ServerSocket | null> {
  const addon = loadNative();
  if (!addon) {
    const sock = await plainConnect(path);
    if (!sock) return null;
    try {
      if (!insecureAllowed(env)) {
        throw new KeyrackError(`the native peer-credential module is missing (${nativeLoadError()}); cannot check the daemon's socket. To build it: ${buildHint()}; or set ${INSECURE_ENV}=1`);
      }
      checkSocketPath(path);
    } catch (e) {
      sock.destroy();
      throw e;
    }
    return { sock, hello: null, check: 'file permissions only' };
  }
  const mine = sessionId();
  const want = o.userWide ? null : mine;
  const r = addon.connectDaemon(path, want, o.timeoutMs);
  if (r.status === 'absent') return null;
  if (r.status !== 'ok' || r.fd === undefined || r.hello === undefined) throw refusal(r, path, mine);
  const sock = new Socket({ fd: r.fd, readable: true, writable: true });
  return { sock, hello: r.hello, check: o.userWide ? 'user-wide, uid-only' : want === null ? 'uid-only' : 'session' };
}

/** Without the native module: an unchecked connect (checkSocketPath is all that is left). */
function plainConnect(path: string): Promise<Socket | null> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    sock.once('connect', () => {
      sock.removeAllListeners('error');
      resolve(sock);
    });
    sock.once('error', (e: NodeJS.ErrnoException) => {
      sock.destroy();
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') resolve(null);
      else if (e.code === 'EACCES') reject(new UserError(`cannot connect to ${shownPath(path)}: permission denied (is it someone else's socket? remove it)`));
      else reject(new KeyrackError(`cannot connect to the keyrack daemon at ${shownPath(path)}: ${e.message}`));
    });
  });
}
