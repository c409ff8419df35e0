/**
 * A process that holds a value leaves no trace of it: no core file (SIGQUIT or a
 * crash would write its heap, values included, to disk) and, with the native
 * module, no ptrace or /proc/<pid>/mem for the user's other processes.
 *
 * Only the soft RLIMIT_CORE drops to 0; the hard limit stays, so the command `exec`
 * runs gets the user's own limit back (withUserCoreLimit). Non-dumpable needs no
 * undoing: execve resets it for the child.
 *
 * Without the native module Node can do neither (there is no process.setrlimit and
 * no prctl): util-linux prlimit(1) lowers our own soft limit from outside, at the
 * cost of a process start on that degraded path only, and the process stays
 * dumpable (doctor reports the missing module).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadNative } from './native.js';

/** What protectProcess achieved. */
export interface Protection {
  /** The soft core limit is 0. */
  noCore: boolean;
  /** PR_SET_DUMPABLE is 0 (native module only). */
  nonDumpable: boolean;
}

/** The user's soft core limit we replaced (Infinity: unlimited); undefined until protectProcess. */
let userLimit: number | undefined;
let result: Protection | undefined;

/** The soft RLIMIT_CORE of a process, from /proc/<pid>/limits (Infinity: unlimited); null when unknown. */
export function coreSoftLimit(pid: number | 'self' = 'self'): number | null {
  try {
    const m = /^Max core file size\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    if (!m) return null;
    return m[1] === 'unlimited' ? Infinity : Number(m[1]);
  } catch {
    return null;
  }
}

/** prlimit(1) on ourselves: the only way to set a limit from Node without the addon. */
function prlimitSelf(soft: number): boolean {
  const bin = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p));
  if (!bin) return false;
  const r = spawnSync(bin, ['--pid', String(process.pid), `--core=${soft === Infinity ? 'unlimited' : soft}:`], { stdio: 'ignore', timeout: 5000 });
  return r.status === 0;
}

function setSoftLimit(soft: number): void {
  const addon = loadNative();
  if (addon) addon.setCoreLimit(soft);
  else prlimitSelf(soft);
}

/**
 * Called before a command's process first holds a value (src/cli.ts, keyed by
 * command; the daemon calls it too). Idempotent. Never throws: a failure leaves
 * the process as it was, and says so in the result.
 */
export function protectProcess(): Protection {
  if (result) return result;
  const addon = loadNative();
  if (addon) {
    try {
      userLimit = addon.protectProcess();
      result = { noCore: true, nonDumpable: !addon.isDumpable() };
      return result;
    } catch {
      // Fall through to what Node can do alone.
    }
  }
  const before = coreSoftLimit();
  const noCore = before === 0 || (before !== null && prlimitSelf(0) && coreSoftLimit() === 0);
  if (noCore && before !== null) userLimit = before;
  result = { noCore, nonDumpable: false };
  return result;
}

/**
 * Runs `start`, a synchronous spawn of the user's own command, with the user's soft
 * core limit restored, so the command keeps their `ulimit -c`; then drops it again.
 * libuv forks inside spawn(), so the child's limits are fixed by the time it returns.
 * In between this process is still non-dumpable (with the native module).
 */
export function withUserCoreLimit<T>(start: () => T): T {
  const soft = userLimit;
  if (soft === undefined || soft === 0) return start();
  setSoftLimit(soft);
  try {
    return start();
  } finally {
    setSoftLimit(0);
  }
}
