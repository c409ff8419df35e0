/**
 * What a long-lived process (the daemon) parsed from a file, kept while the file
 * is the same file: keyed on its identity as fstat reports it on the fd that is
 * read — device, inode, size, mtime and ctime in nanoseconds — so an export does
 * no parsing when nothing changed (a registry of 10,000 keys is half a megabyte of
 * JSON), and sees every edit: an in-place write changes ctime (which no one can
 * set back), a rename over the file changes the inode.
 *
 * The one gap is a write within the filesystem's timestamp tick of the read
 * (timestamps come from a coarse clock) that keeps the size and reuses the inode:
 * as git does with its "racy" index entries, a file changed less than RACY_NS
 * before it was read is parsed each time until it is older.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type BigIntStats } from 'node:fs';

/** A file younger than this (by its mtime or ctime) when read is not trusted to keep its identity. */
export const RACY_NS = 1_000_000_000n;

/** A file's identity: equal means the same content (outside the racy window). */
export interface Identity { dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint; ctimeNs: bigint }

interface Entry<T> {
  id: Identity;
  value: T;
}

export function identity(st: BigIntStats): Identity {
  return { dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs };
}

export function same(a: Identity, b: BigIntStats): boolean {
  return a.ino === b.ino && a.ctimeNs === b.ctimeNs && a.mtimeNs === b.mtimeNs && a.size === b.size && a.dev === b.dev;
}

/** Changed too recently (within `racyNs` of now) for its identity to vouch for its content. */
export function racy(st: BigIntStats, racyNs: bigint = RACY_NS): boolean {
  const youngest = st.mtimeNs > st.ctimeNs ? st.mtimeNs : st.ctimeNs;
  return BigInt(Date.now()) * 1_000_000n - youngest < racyNs;
}

/** Reads the whole of an open fd (regular file of known size, reads past it too in case it grew). */
function readAll(fd: number, size: number): Buffer {
  let buf = Buffer.allocUnsafe(Math.max(size, 4096));
  let n = 0;
  for (;;) {
    if (n === buf.length) {
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger, 0, 0, n);
      buf = bigger;
    }
    const got = readSync(fd, buf, n, buf.length - n, null);
    if (got === 0) return buf.subarray(0, n);
    n += got;
  }
}

/**
 * One cache per kind of file. `parse` must be pure in the bytes (its result is
 * shared by every later caller: treat it as read-only) and must not keep `buf`,
 * which is zeroed after it returns.
 */
export class FileCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  /** Misses since start: what the daemon's tests and bench read to see that a hit parsed nothing. */
  parses = 0;

  constructor(private readonly maxEntries = 64, private readonly racyNs: bigint = RACY_NS) {}

  /** parse(bytes of path), or the cached result when the file is the one parsed; undefined when it does not exist. */
  read(path: string, parse: (buf: Buffer) => T): T | undefined {
    // A hit costs one stat of the path (the daemon's every export asks twice): the
    // identity a parse was bound to, read from its fd, is the file's still.
    const hit = this.entries.get(path);
    if (hit) {
      const now = statSync(path, { bigint: true, throwIfNoEntry: false });
      if (now && same(hit.id, now)) return hit.value;
    }
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.entries.delete(path);
        return undefined;
      }
      throw e;
    }
    try {
      const st = fstatSync(fd, { bigint: true });
      const id = identity(st);
      const again = this.entries.get(path);
      if (again && same(again.id, st)) return again.value;
      const buf = readAll(fd, Number(st.size));
      let value: T;
      try {
        value = parse(buf);
      } finally {
        buf.fill(0);
      }
      this.parses++;
      this.entries.delete(path);
      if (!racy(st, this.racyNs)) {
        if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
        this.entries.set(path, { id, value });
      }
      return value;
    } finally {
      closeSync(fd);
    }
  }

  /** Forgets everything (the daemon drops cached os.direct indexes with its keys). */
  clear(): void {
    this.entries.clear();
  }
}
