/**
 * The project manifest `.keyrack`: key *names* only, safe to commit.
 *   NAME            env var NAME <- key NAME
 *   NAME = key      env var NAME <- key `key`
 *   NAME?           optional: absent or locked is not an error, and no hint
 *   NAME? = key     both
 * '#' starts a comment anywhere on a line. Every error names file, line and reason.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, readlinkSync, realpathSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { parseLine } from './manifest-line.js';
import { decodeStrict, firstInvalidUtf8 } from '../utf8.js';

export const MANIFEST_FILE = '.keyrack';
/** A manifest lists names; anything this large is not one. */
export const MANIFEST_MAX_BYTES = 64 * 1024;

export interface ManifestEntry {
  /** The environment variable to set (for aws.sso keys: the key that expands). */
  env: string;
  /** The registry key it comes from. */
  key: string;
  optional: boolean;
  line: number;
}

export interface Manifest {
  /**
   * What trust is bound to: the real path of the directory the manifest sits in
   * (and applies to), plus its name. The file itself is never a symlink.
   */
  path: string;
  /** Directory holding it. */
  dir: string;
  content: string;
  entries: ManifestEntry[];
}

/** A located error: file, line (0: the file as a whole), reason. Exit 2. */
export class ManifestError extends UserError {
  constructor(readonly file: string, readonly line: number, readonly reason: string) {
    super(line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`);
  }
}

/** What stands at a path, without following a symlink: undefined when nothing does. */
function lstatOrNothing(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined; // absent, or a directory we may not search: walk on, as the hooks do
  }
}

/**
 * The nearest .keyrack from dir upwards, or null. Same walk as the shell hooks do: a
 * directory named .keyrack is passed over; anything else there (a regular file, a
 * symlink, a FIFO …) stops the walk, and readManifest accepts only the regular file.
 * A refused link never falls through to a manifest further up.
 */
export function findManifest(dir: string): string | null {
  let d = resolve(dir);
  for (;;) {
    const p = join(d, MANIFEST_FILE);
    const st = lstatOrNothing(p);
    if (st && !st.isDirectory()) return p;
    const up = dirname(d);
    if (up === d) return null;
    d = up;
  }
}

/**
 * The path trust binds for the manifest file `file`: the real path of its directory
 * plus its own name, which is never followed (symlinked directories above are fine).
 */
export function manifestPath(file: string): string {
  return join(realpathSync(dirname(file)), basename(file));
}

function kindOf(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isDirectory()) return 'a directory';
  return 'not a regular file';
}

const notRegular = (path: string, st: Stats) => new ManifestError(path, 0,
  `is ${kindOf(st)}; keyrack reads only a regular ${MANIFEST_FILE} file (a link could point anywhere, and would move this directory's trust to another file) — replace it with a copy of what it should list`);

/** An errno in words a person reads ("permission denied"), its code otherwise. */
function whyUnreadable(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const words: Record<string, string> = { EACCES: 'permission denied', EPERM: 'not permitted', EIO: 'input/output error', ENOENT: 'it is gone' };
  return (code && words[code]) ?? code ?? 'error';
}

/**
 * The bytes of a regular file, at most MANIFEST_MAX_BYTES + 1 read, without following
 * a symlink or blocking on a FIFO; and the real path of what was opened.
 */
function readBounded(file: string): { path: string; buf: Buffer } {
  let path = file;
  const unreadable = (e: unknown) => new ManifestError(path, 0, `cannot be read: ${whyUnreadable(e)}`);
  try {
    path = manifestPath(file);
  } catch (e) {
    throw unreadable(e);
  }
  let before: Stats;
  try {
    before = lstatSync(file);
  } catch (e) {
    throw unreadable(e);
  }
  if (!before.isFile()) throw notRegular(path, before);
  let fd: number;
  try {
    // O_NONBLOCK: should it have become a FIFO since, opening it does not wait for a writer.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw notRegular(path, lstatSync(file)); // became a link since
    throw unreadable(e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw notRegular(path, st);
    if (st.ino !== before.ino || st.dev !== before.dev) throw new ManifestError(path, 0, 'was replaced while being read; try again');
    try {
      // The file actually opened, however the directories above moved meanwhile.
      path = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      // no /proc: the path resolved just before will do
    }
    const buf = Buffer.alloc(MANIFEST_MAX_BYTES + 1);
    let n = 0;
    try {
      while (n < buf.length) {
        const got = readSync(fd, buf, n, buf.length - n, null);
        if (got === 0) break;
        n += got;
      }
    } catch (e) {
      throw unreadable(e); // EIO and the like: said with the path, exit 2
    }
    if (n > MANIFEST_MAX_BYTES) throw new ManifestError(path, 0, `is larger than ${MANIFEST_MAX_BYTES} bytes; a manifest lists key names only`);
    return { path, buf: buf.subarray(0, n) };
  } finally {
    closeSync(fd);
  }
}

/** Parses one manifest's text. Pure: `path` is only used in messages and the result. */
export function parseManifest(path: string, content: string): Manifest {
  const entries: ManifestEntry[] = [];
  const seen = new Map<string, number>();
  const lines = content.replace(/^\uFEFF/, '').split('\n');
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.includes('\0')) throw new ManifestError(path, line, 'contains a NUL byte');
    const hash = raw.indexOf('#');
    const text = (hash === -1 ? raw : raw.slice(0, hash)).replace(/\r$/, '').trim();
    if (text === '') return;
    const r = parseLine(text);
    if ('reason' in r) throw new ManifestError(path, line, r.reason);
    const { env } = r.entry;
    const prev = seen.get(env);
    if (prev !== undefined) throw new ManifestError(path, line, `${env} is already listed on line ${prev}`);
    seen.set(env, line);
    entries.push({ ...r.entry, line });
  });
  return { path, dir: dirname(path), content, entries };
}

/**
 * Reads and parses the manifest file at `file`: only a regular file, read with a
 * bound, so a `.keyrack` committed as a link to /proc/self/pagemap, a 128 MB file
 * or ~/.git-credentials is refused before any of it is read.
 */
export function readManifest(file: string): Manifest {
  const { path, buf } = readBounded(file);
  const content = decodeStrict(buf);
  if (content === null) {
    const upto = buf.subarray(0, firstInvalidUtf8(buf));
    throw new ManifestError(path, upto.toString('latin1').split('\n').length, 'is not valid UTF-8');
  }
  return parseManifest(path, content.replace(/^\uFEFF/, '')); // an editor's byte-order mark
}

/** Finds, reads and parses the nearest manifest; null when there is none. */
export function loadManifest(dir: string = process.cwd()): Manifest | null {
  const file = findManifest(dir);
  return file === null ? null : readManifest(file);
}
