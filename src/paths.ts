/**
 * Every file keyrack touches derives from HOME and the XDG variables, so tests
 * isolate a whole installation by setting those; there is no other back door.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UserError } from './errors.js';

export type Env = NodeJS.ProcessEnv;

/** The audit session id the kernel reports when pam_loginuid never set one. */
export const UNSET_SESSION = 4294967295;

function home(env: Env): string {
  const h = env.HOME;
  if (h && h.startsWith('/')) return h;
  return homedir();
}

function xdg(env: Env, name: string, fallback: string): string {
  const v = env[name];
  // The XDG spec says relative values are invalid and must be ignored.
  return v && v.startsWith('/') ? v : join(home(env), fallback);
}

export function configDir(env: Env = process.env): string {
  return join(xdg(env, 'XDG_CONFIG_HOME', '.config'), 'keyrack');
}
export function dataDir(env: Env = process.env): string {
  return join(xdg(env, 'XDG_DATA_HOME', '.local/share'), 'keyrack');
}
export function stateDir(env: Env = process.env): string {
  return join(xdg(env, 'XDG_STATE_HOME', '.local/state'), 'keyrack');
}

export const files = {
  registry: (env: Env = process.env) => join(configDir(env), 'registry.json'),
  registryLock: (env: Env = process.env) => join(configDir(env), 'registry.lock'),
  directVault: (env: Env = process.env) => join(dataDir(env), 'direct.json'),
  secureDir: (env: Env = process.env) => join(dataDir(env), 'secure'),
  identity: (env: Env = process.env) => join(dataDir(env), 'secure', 'identity.age'),
  recipient: (env: Env = process.env) => join(dataDir(env), 'secure', 'recipient.txt'),
  secureKey: (name: string, env: Env = process.env) => join(dataDir(env), 'secure', 'keys', `${name}.age`),
  allowDir: (env: Env = process.env) => join(dataDir(env), 'allow'),
  denyDir: (env: Env = process.env) => join(dataDir(env), 'deny'),
  fingerprintKey: (env: Env = process.env) => join(dataDir(env), 'fingerprint.key'),
  auditLog: (env: Env = process.env) => join(stateDir(env), 'audit.log'),
  daemonLog: (env: Env = process.env) => join(stateDir(env), 'daemon.log'),
};

/** This process's audit session id, or null when the kernel has none for it. */
export function sessionId(pid: number | 'self' = 'self'): number | null {
  try {
    const n = Number(readFileSync(`/proc/${pid}/sessionid`, 'utf8').trim());
    if (!Number.isInteger(n) || n === UNSET_SESSION) return null;
    return n;
  } catch {
    return null;
  }
}

/** This process's uid (0 where the platform has none). */
export function uid(): number {
  return process.getuid ? process.getuid() : 0;
}

/** XDG's rule for a runtime dir, and ours for every private dir: mode exactly 0700 (checked with the owner). */
export function isPrivateMode(mode: number): boolean {
  return (mode & 0o777) === 0o700;
}

/** Checks that a directory is ours and 0700, as XDG requires of a runtime dir. */
function checkPrivateDir(dir: string): void {
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new UserError(`runtime dir ${dir} is not a directory`);
  if (st.uid !== uid()) throw new UserError(`runtime dir ${dir} is owned by uid ${st.uid}, not by you (uid ${uid()}); refusing to use it`);
  if (!isPrivateMode(st.mode)) {
    throw new UserError(`runtime dir ${dir} has mode ${(st.mode & 0o777).toString(8)}, not 700; refusing to use it (chmod 700 ${dir})`);
  }
}

/**
 * $XDG_RUNTIME_DIR, else /run/user/$UID when it is ours and 0700, else
 * /tmp/runtime-$UID (created 0700; refused when it exists but is not ours or not 0700).
 * `create` is false on hot read-only paths that only need the name; with it, an
 * XDG_RUNTIME_DIR that does not exist (a login session that ended, a variable set
 * by hand) is created 0700, or refused with what to do — never a bare ENOENT later.
 */
export function runtimeDir(env: Env = process.env, create = true): string {
  const v = env.XDG_RUNTIME_DIR;
  if (v && v.startsWith('/')) {
    if (create) createRuntimeDir(v);
    return v;
  }
  const run = `/run/user/${uid()}`;
  try {
    checkPrivateDir(run);
    return run;
  } catch {
    // fall through to the /tmp fallback
  }
  const tmp = `/tmp/runtime-${uid()}`;
  if (create) ensurePrivateDir(tmp);
  return tmp;
}

/** Makes a missing XDG_RUNTIME_DIR (only the last component, 0700, checked as ours after), or says why it cannot. */
function createRuntimeDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return; // there already: the socket's own checks judge it
    const why = code === 'ENOENT' ? 'neither it nor the directory above it exists' : code === 'EACCES' ? 'it does not exist, and you may not create it' : `it cannot be created (${code ?? 'error'})`;
    throw new UserError(`XDG_RUNTIME_DIR is ${dir}, but ${why} — your login session may have ended, or the variable was set by hand: ` +
      `unset XDG_RUNTIME_DIR (keyrack then uses /run/user/${uid()} or /tmp/runtime-${uid()}), or create it: mkdir -m 700 ${dir}`);
  }
  checkPrivateDir(dir);
}

function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  checkPrivateDir(dir);
}

/**
 * Name shared by the socket, its lock and the generation file: one daemon per
 * session; `u<uid>` for a process without one (containers, systemd --user).
 */
function sessionTag(sid: number | null = sessionId()): string {
  return sid === null ? `u${uid()}` : String(sid);
}

/** sockaddr_un.sun_path holds 108 bytes including the NUL. */
export const SOCKET_PATH_MAX = 107;

export function socketPath(env: Env = process.env, create = true, session: number | null = sessionId()): string {
  const dir = runtimeDir(env, create);
  const full = join(dir, `keyrack.${sessionTag(session)}.sock`);
  if (Buffer.byteLength(full) <= SOCKET_PATH_MAX) return full;
  // Too long for a unix socket: a short hashed name in a private dir of our own.
  const short = `/tmp/keyrack-${uid()}`;
  if (create) ensurePrivateDir(short);
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 16);
  return join(short, `${hash}.sock`);
}

export function daemonLockPath(env: Env = process.env): string {
  return join(runtimeDir(env), `keyrack.${sessionTag()}.lock`);
}

/**
 * The generation file: a token that changes whenever what `export` would print may
 * have changed (unlock, lock, expiry, refresh, allow, deny). Shell hooks read it with
 * a builtin on every prompt, so an unchanged prompt never starts Node.
 */
export function generationPath(env: Env = process.env, session: number | null = sessionId()): string {
  return join(runtimeDir(env, false), `keyrack.${sessionTag(session)}.gen`);
}

/**
 * The socket of a daemon without a session (uid-only). A shell in a login session
 * uses it only when no daemon serves its own session and that daemon says it was
 * started to serve every session (KEYRACK_USER_DAEMON=1, e.g. under systemd --user).
 */
export function userSocketPath(env: Env = process.env): string {
  return socketPath(env, false, null);
}
