/**
 * The audit log: one JSON line for every value the daemon hands out and for every
 * connection it refuses, in files.auditLog ($XDG_STATE_HOME/keyrack/audit.log,
 * 0600). Never a value: key names, and who asked as the kernel reports it — the
 * pid, uid and audit session from the connection's peer check, the executable
 * and cwd read from /proc at request time, through a handle on the caller's
 * /proc directory taken at connect (so a recycled pid cannot lend its identity).
 *
 * Cheap on the GET path: one write(2) per record on an O_APPEND fd, no fsync.
 * Capped: past maxBytes the file rotates (audit.log → .1 → .2 → .3). Several
 * daemons (one per login session) may share the file: O_APPEND keeps their
 * lines whole, rotation happens under a lock, and a daemon whose file was
 * rotated by another reopens the new one.
 *
 * Refused connections are rate-limited (a flood must not rotate the interesting
 * records away); what the limit held back is counted in a "suppressed" record.
 */
import {
  closeSync, fchmodSync, fstatSync, openSync, readFileSync, readlinkSync, renameSync, statSync, writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { ensureDir } from '../fsutil.js';
import { flock } from '../native.js';
import { openProcDir } from './peer.js';
import { parseStoreName } from '../team/storename.js';

export const AUDIT_MAX_BYTES = 1024 * 1024;
export const AUDIT_KEEP = 3;
/** Refused connections recorded per second (sustained), and in a burst. */
const REFUSED_PER_S = 10;
const REFUSED_BURST = 50;

/** Who is on a connection, fixed when it passed (or failed) its peer check. */
export interface Caller {
  pid: number | null;
  uid: number | null;
  session: number | null;
  /**
   * An fd on /proc/<pid>, opened at connect: lookups through it reach that very
   * process or fail once it is gone, never a later process that got its pid.
   * Closed by releaseCaller when the connection closes.
   */
  proc: number | null;
}

export type AuditOp = 'get' | 'export' | 'exec';

/** One line of audit.log. Fields are only ever added. */
export interface AuditRecord {
  /** ISO 8601, UTC. */
  time: string;
  op: AuditOp | 'refused' | 'suppressed';
  /** get/export: the keys whose values were handed out. */
  keys?: string[];
  /** Where a key among `keys` came from, when not your own registry: `"team"` (a project's team file). */
  sources?: Record<string, 'team'>;
  pid: number | null;
  uid: number | null;
  /** Audit session id; null when unset. */
  session: number | null;
  /** readlink /proc/<pid>/exe and cwd at request time; null when unreadable or the process is gone. */
  exe: string | null;
  cwd: string | null;
  /**
   * Only when exe is unreadable but the process is there: its name from
   * /proc/<pid>/comm (which a process can set itself). A non-dumpable caller
   * (keyrack's own clients are) hides exe and cwd from a daemon that is not root.
   */
  comm?: string;
  /**
   * exec: the program the client was about to run (its resolved path, or null when
   * it could not resolve one, and its argv[0]), as the client reported it — unlike
   * pid, uid, session, exe and cwd, which the kernel attests.
   */
  program?: { path: string | null; argv0: string; reported: 'client' };
  /** refused: why. */
  reason?: string;
  /** suppressed: refused connections not recorded one by one. */
  count?: number;
}

function link(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

export function callerOf(v: { pid: number | null; uid: number | null; session?: number | null; proc?: number | null }): Caller {
  // The verdict's handle when the check took one; else opened now (null when gone: exe and cwd null).
  const proc = v.proc !== undefined ? v.proc : v.pid === null ? null : openProcDir(v.pid);
  return { pid: v.pid, uid: v.uid, session: v.session ?? null, proc };
}

export function releaseCaller(c: Caller): void {
  if (c.proc === null) return;
  try {
    closeSync(c.proc);
  } catch { /* closed already */ }
  c.proc = null;
}

/** The caller's executable and cwd now, read through its /proc handle (so never another process's). */
function whoNow(c: Caller): Pick<AuditRecord, 'exe' | 'cwd' | 'comm'> {
  if (c.proc === null) return { exe: null, cwd: null };
  const who = { exe: link(`/proc/self/fd/${c.proc}/exe`), cwd: link(`/proc/self/fd/${c.proc}/cwd`) };
  if (who.exe !== null) return who;
  let comm: string;
  try {
    comm = readFileSync(`/proc/self/fd/${c.proc}/comm`, 'utf8').replace(/\n$/, '');
  } catch {
    return who; // gone
  }
  return { ...who, comm };
}

export interface AuditOptions {
  maxBytes?: number;
  keep?: number;
  /** Where the daemon says that auditing fails (once per failure streak). */
  warn?: (line: string) => void;
  now?: () => Date;
}

export class AuditLog {
  private fd: number | undefined;
  private ino = 0;
  /** Our idea of the file's size; another daemon's appends are picked up by the next check. */
  private size = 0;
  private checkedAt = 0;
  private failing = false;
  private retryAt = 0;
  private tokens = REFUSED_BURST;
  private refill = Date.now();
  private suppressed = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly now: () => Date;

  constructor(readonly path: string, private readonly opts: AuditOptions = {}) {
    this.maxBytes = opts.maxBytes ?? AUDIT_MAX_BYTES;
    this.keep = opts.keep ?? AUDIT_KEEP;
    this.now = opts.now ?? (() => new Date());
    this.open();
  }

  /** Values handed out: call before the reply leaves, with the keys actually in it. */
  record(r: { op: AuditOp; keys: string[]; peer: Caller; program?: { path: string; argv0: string } }): void {
    if (r.keys.length === 0) return;
    const { pid, uid, session } = r.peer;
    // Team values are held as team:<id>:KEY: recorded as the key they are, with their source.
    const named = r.keys.map(parseStoreName);
    const team = named.filter((k) => k.team !== undefined).map((k) => k.key);
    const program = r.program && { program: { path: r.program.path === '' ? null : r.program.path, argv0: r.program.argv0, reported: 'client' as const } };
    const rec: AuditRecord = { time: this.now().toISOString(), op: r.op, keys: named.map((k) => k.key), pid, uid, session, ...whoNow(r.peer), ...program };
    if (team.length > 0) rec.sources = Object.fromEntries(team.map((k) => [k, 'team' as const]));
    this.write(rec);
  }

  /**
   * A connection that failed its peer check (its /proc is looked at only when
   * recorded). False when the rate limit held it back (it is counted instead).
   */
  refused(peer: { pid: number | null; uid: number | null; session?: number | null }, reason: string): boolean {
    const t = Date.now();
    this.tokens = Math.min(REFUSED_BURST, this.tokens + ((t - this.refill) / 1000) * REFUSED_PER_S);
    this.refill = t;
    if (this.tokens < 1) {
      this.suppressed++;
      this.flushTimer ??= setTimeout(() => this.flushSuppressed(), 1000).unref();
      return false;
    }
    this.tokens--;
    const c = callerOf(peer);
    this.write({ time: this.now().toISOString(), op: 'refused', pid: c.pid, uid: c.uid, session: c.session, ...whoNow(c), reason });
    releaseCaller(c);
    return true;
  }

  close(): void {
    this.flushSuppressed();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private flushSuppressed(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.suppressed === 0) return;
    const count = this.suppressed;
    this.suppressed = 0;
    this.write({
      time: this.now().toISOString(), op: 'suppressed', pid: null, uid: null, session: null, exe: null, cwd: null,
      count, reason: `${count} more refused connection${count === 1 ? '' : 's'} not recorded one by one (over ${REFUSED_PER_S}/s)`,
    });
  }

  private open(): void {
    try {
      ensureDir(dirname(this.path));
      const fd = openSync(this.path, 'a', 0o600);
      fchmodSync(fd, 0o600);
      this.fd = fd;
      const st = fstatSync(fd);
      this.ino = st.ino;
      this.size = st.size;
      this.checkedAt = Date.now();
      this.failing = false;
    } catch (e) {
      this.fd = undefined;
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    this.retryAt = Date.now() + 5000;
    if (!this.failing) this.opts.warn?.(`audit log ${this.path}: ${(e as Error).message}; records are lost until it works again`);
    this.failing = true;
  }

  private write(rec: AuditRecord): void {
    // JSON leaves C1 controls and U+2028/9 raw: escape them too, so a hostile cwd cannot drive a terminal.
    const line = JSON.stringify(rec).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) + '\n';
    if (this.fd === undefined) {
      if (Date.now() < this.retryAt) return;
      this.open();
      if (this.fd === undefined) return;
    }
    try {
      const bytes = Buffer.byteLength(line);
      // A stat at most once a second, or when the file may be full: another daemon may
      // have rotated it (we follow; until then our lines land in audit.log.1, not lost).
      const now = Date.now();
      if (now - this.checkedAt >= 1000 || this.size + bytes > this.maxBytes) {
        this.checkedAt = now;
        let st;
        try {
          st = statSync(this.path);
        } catch {
          st = undefined;
        }
        if (st === undefined || st.ino !== this.ino) this.reopen();
        else if (st.size + bytes > this.maxBytes && st.size > 0) this.rotate();
        else this.size = st.size;
      }
      if (this.fd === undefined) return;
      writeSync(this.fd, line);
      this.size += bytes;
      this.failing = false;
    } catch (e) {
      this.fail(e);
    }
  }

  private reopen(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.open();
  }

  /** audit.log → .1 → … → .keep, under a lock shared by every daemon of this user. */
  private rotate(): void {
    let lockFd: number | undefined;
    try {
      lockFd = openSync(`${this.path}.lock`, 'a', 0o600);
      flock(lockFd, 'ex');
      // Another daemon may have rotated while we waited for the lock: then just follow it.
      if (statSync(this.path).ino === this.ino) {
        for (let i = this.keep - 1; i >= 1; i--) {
          try {
            renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
          } catch { /* not there yet */ }
        }
        renameSync(this.path, `${this.path}.1`);
      }
    } finally {
      if (lockFd !== undefined) closeSync(lockFd); // closing drops the flock
    }
    this.reopen();
  }
}
