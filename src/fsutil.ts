/**
 * File writes that lose nothing: a crash leaves either the old file or the new
 * one, never a torn one (temp file in the same dir, fsync, rename, fsync dir).
 * Every temp file keyrack writes is named by one scheme (tempFor), so the next
 * write of the same file sweeps what a killed writer left behind.
 */
import {
  chmodSync, closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { UserError } from './errors.js';
import { flock } from './native.js';

/** Creates dir (and parents) 0700; tightens an existing dir of ours that is looser. */
export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temp files of earlier writes of `path` whose writer died (SIGKILL, power loss). */
function sweepStaleTemps(dir: string, name: string): void {
  const prefix = `.${name}.`;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.startsWith(prefix) || !e.endsWith('.tmp')) continue;
    const pid = Number(e.slice(prefix.length).split('.')[0]);
    if (!Number.isInteger(pid) || pid === process.pid || alive(pid)) continue;
    try {
      unlinkSync(join(dir, e));
    } catch {
      // another writer swept it first
    }
  }
}

/** A fresh temp name for a write of `path`, beside it: `.NAME.<pid>.<random>.tmp`. */
function tempFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Writes `data` to a fresh temp file of `path`, created exclusively (never through a planted link); returns its name. */
function writeTemp(path: string, data: string | Uint8Array, mode: number, durable: boolean): string {
  sweepStaleTemps(dirname(path), basename(path));
  const tmp = tempFor(path);
  const fd = openSync(tmp, 'wx', mode);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    if (durable) fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  return tmp;
}

function syncDir(dir: string): void {
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/** How hard a write must try: the defaults are for files that must survive a crash. */
export interface WriteOptions {
  /** fsync the file and its directory, so the write survives a power loss (default true). */
  durable?: boolean;
  /** Create the directory 0700 when missing (default true). */
  createDir?: boolean;
}

/** Replaces `path` with `data`: readers see the old file or the new one, never a torn one. */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600, o: WriteOptions = {}): void {
  const durable = o.durable ?? true;
  if (o.createDir ?? true) ensureDir(dirname(path));
  const tmp = writeTemp(path, data, mode, durable);
  try {
    renameSync(tmp, path);
  } catch (e) {
    unlinkSync(tmp);
    throw e;
  }
  if (durable) syncDir(dirname(path));
}

/**
 * Creates `path` holding `data` unless it exists: then false, and the file is left
 * as it is (a link, unlike a rename, never replaces). Of two racing creators, one wins.
 */
export function createFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): boolean {
  ensureDir(dirname(path));
  const tmp = writeTemp(path, data, mode, true);
  try {
    linkSync(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    unlinkSync(tmp);
  }
  syncDir(dirname(path));
  return true;
}

/** Reads a file, or returns undefined when it does not exist. */
export function readIfExists(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Parses a JSON file of ours. A file that fails to parse is reported with its path
 * and left exactly as it is: the caller must not go on to overwrite it.
 */
export function readJsonFile(path: string): unknown | undefined {
  const buf = readIfExists(path);
  if (buf === undefined) return undefined;
  try {
    return JSON.parse(buf.toString('utf8')) as unknown;
  } catch {
    throw notJson(path);
  }
}

/** A JSON file of ours that does not parse. V8's message quotes the text around the error, which may be a secret: not shown. */
export function notJson(path: string): UserError {
  return new UserError(`${path} is not valid JSON; fix or move it — keyrack will not overwrite it`);
}

/** A file of ours that does not parse: named, and left exactly as it is. */
export function unusableFile(path: string, why: string): UserError {
  return new UserError(`${path}: ${why}; fix or move it — keyrack will not overwrite it`);
}

/** Runs fn holding an exclusive flock on `lockPath` (created 0600), released when its fd closes, even on SIGKILL. */
export function withFileLock<T>(lockPath: string, fn: () => T): T {
  ensureDir(dirname(lockPath));
  const fd = openSync(lockPath, 'a', 0o600);
  try {
    flock(fd, 'ex');
    return fn();
  } finally {
    closeSync(fd);
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
