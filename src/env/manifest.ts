/**
 * The project manifest `.keyrack`: key *names* only, safe to commit.
 *   NAME            env var NAME <- key NAME
 *   NAME = key      env var NAME <- key `key`
 *   NAME?           optional: absent or locked is not an error, and no hint
 *   NAME? = key     both
 *   NAME exec-only  (a last word on any line) only `keyrack exec`/`get` hand it out,
 *                   never the shell hook: a manifest may make a key stricter, never looser
 * '#' starts a comment anywhere on a line. Every error names file, line and reason.
 */
import { lstatSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { BoundedReadError, boundPath, readRegularBounded } from '../boundedread.js';
import { UserError } from '../errors.js';
import { parseLine } from './manifest-line.js';
import { decodeStrict, firstInvalidUtf8 } from '../utf8.js';
import { identity, racy, same, type Identity } from '../filecache.js';

export const MANIFEST_FILE = '.keyrack';
/** A manifest lists names; anything this large is not one. */
export const MANIFEST_MAX_BYTES = 64 * 1024;

export interface ManifestEntry {
  /** The environment variable to set (for aws.sso keys: the key that expands). */
  env: string;
  /** The registry key it comes from. */
  key: string;
  optional: boolean;
  /** Marked `exec-only` on its line: never exported into a shell. */
  execOnly?: true;
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
  return boundPath(file);
}

const notRegular = (path: string, what: string) => new ManifestError(path, 0,
  `is ${what}; keyrack reads only a regular ${MANIFEST_FILE} file (a link could point anywhere, and would move this directory's trust to another file) — replace it with a copy of what it should list`);

/** The manifest's words for a refused read (boundedread.ts). */
function refused(e: BoundedReadError): ManifestError {
  const r = e.refusal;
  switch (r.kind) {
    case 'not-regular': return notRegular(e.path, r.what);
    case 'too-large': return new ManifestError(e.path, 0, `is larger than ${MANIFEST_MAX_BYTES} bytes; a manifest lists key names only`);
    case 'replaced': return new ManifestError(e.path, 0, 'was replaced while being read; try again');
    case 'unreadable': return new ManifestError(e.path, 0, `cannot be read: ${whyUnreadable(r.code)}`);
  }
}

/** An errno in words a person reads ("permission denied"), its code otherwise. */
function whyUnreadable(code: string): string {
  const words: Record<string, string> = { EACCES: 'permission denied', EPERM: 'not permitted', EIO: 'input/output error', ENOENT: 'it is gone' };
  return words[code] ?? code;
}

/**
 * The bytes of a regular file, at most MANIFEST_MAX_BYTES + 1 read, without following
 * a symlink or blocking on a FIFO; and the real path of what was opened.
 */
function readBounded(file: string): { path: string; buf: Buffer } {
  try {
    return readRegularBounded(file, MANIFEST_MAX_BYTES);
  } catch (e) {
    throw e instanceof BoundedReadError ? refused(e) : e;
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
  // What stands there now, unfollowed: the cached parse only while it is that very file.
  const st = lstatSync(file, { bigint: true, throwIfNoEntry: false });
  if (st?.isFile()) {
    const hit = parsed.get(file);
    if (hit && same(hit.id, st) && hit.manifest.path === boundPath(file)) return hit.manifest;
  }
  const m = readUncached(file);
  parsed.delete(file);
  // The identity seen before the read: a write since makes the next lstat differ, so it is read again.
  if (st?.isFile() && !racy(st)) {
    if (parsed.size >= MAX_PARSED) parsed.delete(parsed.keys().next().value!);
    parsed.set(file, { id: identity(st), manifest: m });
  }
  return m;
}

/**
 * Parses by the path they were found at, kept while the file keeps its identity
 * (filecache.ts: device, inode, size, mtime, ctime; never one changed in the last
 * second) and its real path is the one it was read at (trust is bound to it): the daemon reads
 * the same few manifests on every export, and a parse was a third of its work.
 * Shared by every caller, so frozen.
 */
const parsed = new Map<string, { id: Identity; manifest: Manifest }>();
const MAX_PARSED = 64;

function readUncached(file: string): Manifest {
  const { path, buf } = readBounded(file);
  const content = decodeStrict(buf);
  if (content === null) {
    const upto = buf.subarray(0, firstInvalidUtf8(buf));
    throw new ManifestError(path, upto.toString('latin1').split('\n').length, 'is not valid UTF-8');
  }
  const m = parseManifest(path, content.replace(/^\uFEFF/, '')); // an editor's byte-order mark
  for (const e of m.entries) Object.freeze(e);
  Object.freeze(m.entries);
  return Object.freeze(m);
}

/** Finds, reads and parses the nearest manifest; null when there is none. */
export function loadManifest(dir: string = process.cwd()): Manifest | null {
  const file = findManifest(dir);
  return file === null ? null : readManifest(file);
}
