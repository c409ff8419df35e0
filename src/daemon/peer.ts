/**
 * Who is on the other end of the socket, as the kernel says — both ways.
 *
 * Daemon side (every connection): SO_PEERCRED uid must equal ours; then the peer's
 * audit session id (read while the pid is pinned by a pidfd, so a recycled pid
 * cannot lend its session) must equal the daemon's. A daemon whose own session is
 * unset runs uid-only, and says so.
 *
 * Client side: the daemon's uid must equal ours before we send a single byte, so a
 * socket planted by another user learns nothing.
 *
 * Without the native module there is no correct per-connection check (Node exposes
 * no SO_PEERCRED, /proc/net/unix has no peer column, and `ss -xp | grep inode`
 * matches both ends). The daemon then refuses to start unless the user sets
 * KEYRACK_INSECURE_NO_NATIVE=1, which leaves only the file permissions: a 0600
 * socket in a 0700 directory of ours, which the kernel checks on connect().
 */
import { closeSync, constants, lstatSync, openSync, type Stats } from 'node:fs';
import type { Socket } from 'node:net';
import { dirname } from 'node:path';
import { KeyrackError, UserError } from '../errors.js';
import { buildHint, loadNative, nativeLoadError } from '../native.js';
import { sessionId, uid as myUid } from '../paths.js';

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
      // Opened before peerInfo proves the pid still names the caller, so it is the caller's.
      const proc = openProcDir(pid);
      let info;
      try {
        info = addon.peerInfo(fd);
      } catch (e) {
        closeFd(proc);
        return { ok: false, reason: `cannot check the peer's session: ${(e as Error).message}`, pid: null, uid: null };
      }
      pinnedBy = info.pinnedBy;
      if (info.sessionId !== session) {
        closeFd(proc);
        const theirs = info.sessionId === null ? 'unset' : String(info.sessionId);
        return { ok: false, reason: `peer audit session ${theirs} is not the daemon's session ${session}`, pid: info.pid, uid: info.uid, session: info.sessionId };
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
  if (!st.isSocket() || st.uid !== uid) throw new UserError(`refusing ${path}: it is not a socket of yours (${describeOwner(st)}); remove it`);
  if (!dir.isDirectory() || dir.uid !== uid || (dir.mode & 0o022) !== 0) {
    throw new UserError(`refusing ${path}: its directory is not private to you (${describeOwner(dir)}); chmod 700 ${dirname(path)}`);
  }
}

/**
 * The client's check, after connect and before sending anything: the daemon's uid
 * must be ours. Throws UserError naming the socket and the foreign uid.
 */
export function checkServer(s: Socket, path: string, env: NodeJS.ProcessEnv): void {
  const addon = loadNative();
  if (!addon) {
    if (!insecureAllowed(env)) {
      throw new KeyrackError(`the native peer-credential module is missing (${nativeLoadError()}); cannot check the daemon's socket. To build it: ${buildHint()}; or set ${INSECURE_ENV}=1`);
    }
    checkSocketPath(path);
    return;
  }
  const uid = myUid();
  let cred;
  try {
    cred = addon.peerCred(socketFd(s));
  } catch (e) {
    throw new KeyrackError(`cannot read the daemon's credentials on ${path}: ${(e as Error).message}`);
  }
  if (cred.uid !== uid) {
    throw new UserError(`refusing the daemon socket ${path}: it is served by uid ${cred.uid} (pid ${cred.pid}), not by you (uid ${uid}); someone may have planted it — remove it`);
  }
}
