/**
 * Reading a file a cloned repo put there (the manifest, the team file): only a
 * regular file, at most `maxBytes` + 1 bytes of it, never through a symlink and
 * never blocking on a FIFO. So a `.keyrack` committed as a link to
 * /proc/self/pagemap, a 128 MB file or ~/.git-credentials is refused before any
 * of it is read. Each caller words its own refusal (BoundedReadError says which).
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, readlinkSync, realpathSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Why a file was not read; `path` is where it was looked for (see boundPath). */
export type Refusal =
  | { kind: 'not-regular'; what: string }
  | { kind: 'too-large' }
  | { kind: 'replaced' }
  | { kind: 'unreadable'; code: string };

/** A refused read: the caller turns it into its own located message. */
export class BoundedReadError extends Error {
  constructor(readonly path: string, readonly refusal: Refusal) {
    super(`${path}: ${refusal.kind}`);
  }
}

/**
 * The path a repo file is known by: the real path of its directory plus its own
 * name, which is never followed (symlinked directories above it are fine).
 */
export function boundPath(file: string): string {
  return join(realpathSync(dirname(file)), basename(file));
}

/** What a non-regular file is, for a message ("a symbolic link"). */
export function kindOf(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/**
 * The bytes of the regular file `file` (at most maxBytes), and the real path of
 * what was opened. Throws BoundedReadError; ENOENT is `unreadable` with that code.
 */
export function readRegularBounded(file: string, maxBytes: number): { path: string; buf: Buffer } {
  let path = file;
  const unreadable = (e: unknown) => new BoundedReadError(path, { kind: 'unreadable', code: (e as NodeJS.ErrnoException).code ?? 'error' });
  const notRegular = (st: Stats) => new BoundedReadError(path, { kind: 'not-regular', what: kindOf(st) });
  try {
    path = boundPath(file);
  } catch (e) {
    throw unreadable(e);
  }
  let before: Stats;
  try {
    before = lstatSync(file);
  } catch (e) {
    throw unreadable(e);
  }
  if (!before.isFile()) throw notRegular(before);
  let fd: number;
  try {
    // O_NONBLOCK: should it have become a FIFO since, opening it does not wait for a writer.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw notRegular(lstatSync(file)); // became a link since
    throw unreadable(e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw notRegular(st);
    if (st.ino !== before.ino || st.dev !== before.dev) throw new BoundedReadError(path, { kind: 'replaced' });
    try {
      // The file actually opened, however the directories above moved meanwhile.
      path = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      // no /proc: the path resolved just before will do
    }
    // Sized by what fstat saw, read on to EOF or past the bound: a file growing meanwhile is still bounded.
    const chunks: Buffer[] = [];
    let n = 0;
    try {
      for (let want = Math.min(maxBytes + 1, st.size + 1); n <= maxBytes; want = Math.min(maxBytes + 1 - n, 64 * 1024)) {
        const chunk = Buffer.alloc(want);
        const got = readSync(fd, chunk, 0, want, null);
        if (got === 0) break;
        chunks.push(chunk.subarray(0, got));
        n += got;
      }
    } catch (e) {
      throw unreadable(e); // EIO and the like: said with the path
    }
    if (n > maxBytes) throw new BoundedReadError(path, { kind: 'too-large' });
    return { path, buf: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, n) };
  } finally {
    closeSync(fd);
  }
}
