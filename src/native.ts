/**
 * The N-API addon in native/: what Node cannot do by itself. SO_PEERCRED and a
 * pidfd on the peer (so a pid cannot be recycled between check and use),
 * prctl(PR_SET_DUMPABLE, 0) for the daemon, and flock(2) for file locks.
 * Loaded lazily: commands that do not need it never dlopen it. Only the daemon
 * cannot do without it; file locks have a fallback (flock below).
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeyrackError } from './errors.js';
import { findUp } from './findup.js';

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

export interface PeerInfo extends PeerCred {
  /** The peer's audit session id; null when the kernel has none (4294967295). */
  sessionId: number | null;
  /** How the pid was pinned while /proc/<pid>/sessionid was read. */
  pinnedBy: 'SO_PEERPIDFD' | 'pidfd_open';
}

/** What a client's check of the daemon found (native/peer_check.h kr_connect_daemon). */
export type DaemonVerdict =
  | 'ok' | 'absent' | 'foreign-uid' | 'foreign-session' | 'gone' | 'not-sender' | 'no-hello' | 'timeout' | 'error';

export interface DaemonSocket {
  status: DaemonVerdict;
  /** ok: the connected socket, nothing sent on it yet. */
  fd?: number;
  /** ok: the daemon's first line, without its newline (nothing after it was read). */
  hello?: string;
  /** The process that listens on the socket (SO_PEERCRED). */
  pid?: number;
  uid?: number;
  /** Its audit session; null when unset or not read (uid-only). */
  session: number | null;
  /** Who wrote the hello (SCM_CREDENTIALS); -1 more than one process. */
  sender?: number;
  pinnedBy?: 'SO_PEERPIDFD' | 'pidfd_open';
  /** error: what failed, with strerror. */
  error?: string;
  code?: 'EACCES';
}

interface Addon {
  peerCred(fd: number): PeerCred;
  peerInfo(fd: number): PeerInfo;
  /**
   * Connects and checks the daemon before a byte is sent: uid ours and, unless
   * session is null (uid-only), the process behind the socket in that audit session.
   * Blocks for at most timeoutMs.
   */
  connectDaemon(path: string, session: number | null, timeoutMs: number): DaemonSocket;
  setNonDumpable(): void;
  isDumpable(): boolean;
  flock(fd: number, op: 'ex' | 'sh' | 'un', wait: boolean): boolean;
  /** RLIMIT_CORE soft limit 0 + PR_SET_DUMPABLE 0; returns the soft limit it replaced (Infinity: unlimited). */
  protectProcess(): number;
  /** Sets the RLIMIT_CORE soft limit (Infinity: unlimited), capped at the hard limit. */
  setCoreLimit(soft: number): void;
}

let addon: Addon | undefined;
let loadError: string | undefined;

/** Finds native/build/Release/keyrack_native.node from src/ (tsx) or dist/ (bundle). */
function addonPath(): string | undefined {
  return findUp(dirname(fileURLToPath(import.meta.url)), join('native', 'build', 'Release', 'keyrack_native.node'));
}

/**
 * How to build the module where this keyrack runs, for every message that asks
 * for it: a checkout has install.sh beside it; the npm package has its install
 * step (scripts/install.mjs), which can be run again by hand.
 */
export function buildHint(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  if (findUp(here, 'install.sh') !== undefined) return 'run ./install.sh (or npm run build:native; needs python3, make and a C compiler)';
  const step = findUp(here, join('scripts', 'install.mjs'));
  if (step) return `node '${step}' (needs python3, make, a C compiler and Node's headers beside node)`;
  // Neither beside it (a copied bundle): both ways.
  return "run ./install.sh in a checkout, or reinstall keyrack with npm letting its install script run (needs python3, make and a C compiler)";
}

export function loadNative(): Addon | undefined {
  if (addon || loadError) return addon;
  const p = addonPath();
  if (!p) {
    loadError = 'native/build/Release/keyrack_native.node not found';
    return undefined;
  }
  try {
    addon = createRequire(import.meta.url)(p) as Addon;
  } catch (e) {
    loadError = `cannot load ${p}: ${(e as Error).message}`;
  }
  return addon;
}

export function nativeLoadError(): string | undefined {
  loadNative();
  return loadError;
}

export function native(): Addon {
  const a = loadNative();
  if (!a) throw new KeyrackError(`the native peer-credential module is missing: ${loadError}; to build it: ${buildHint()}`);
  return a;
}

/**
 * flock(2) on fd: false when `wait` is off and someone else holds it. Without the
 * addon, util-linux's flock(1) takes the lock for us: the child gets a copy of the
 * same open file description, and a flock belongs to the description, so the lock
 * stays ours after the child exits, until we close the fd or die, even by SIGKILL.
 * The same guarantee, for the price of a process start: so a failed native build
 * still leaves the local vaults working (only the daemon needs the addon).
 */
export function flock(fd: number, op: 'ex' | 'sh' | 'un', wait = true): boolean {
  const a = loadNative();
  if (a) return a.flock(fd, op, wait);
  const flag = op === 'ex' ? '-x' : op === 'sh' ? '-s' : '-u';
  const bin = ['/usr/bin/flock', '/bin/flock'].find((p) => existsSync(p)) ?? 'flock';
  const r = spawnSync(bin, [...(wait ? [] : ['-n']), flag, '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
  if (r.error) throw new KeyrackError(`cannot lock files: the native module is missing (${loadError}) and flock(1) could not run (${r.error.message}); ${buildHint()}`);
  if (r.status === 0) return true;
  if (!wait && r.status === 1) return false;
  throw new KeyrackError(`cannot lock files: flock(1) failed: ${r.stderr.toString().trim()}`);
}
