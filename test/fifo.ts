/**
 * Real pipes (FIFOs) whose other end the test holds, to catch a process in the
 * middle of a read or a write: Node's own stdio 'pipe' is a socketpair, and
 * whatever Node reads it reads at once, so neither can leave a writer blocked.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface Fifo {
  /** The end to give the child (blocking, as a shell's pipe is). */
  childFd: number;
  /** Deaf pipe: one read of what is there, at most 64 KiB, without waiting. Fed pipe: nothing. */
  drain(): Buffer;
  /** Fed pipe only: more for the child to read. */
  write(s: string): void;
  close(): void;
}

function mkfifo(dir: string): string {
  const path = join(dir, `fifo-${randomBytes(4).toString('hex')}`);
  const r = spawnSync('mkfifo', ['-m', '600', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mkfifo: ${r.stderr}`);
  return path;
}

/** A pipe nobody reads until drain(): a child writing to childFd blocks once 64 KiB are in it. */
export function deafPipe(dir: string): Fifo {
  const path = mkfifo(dir);
  const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const childFd = openSync(path, constants.O_WRONLY);
  rmSync(path);
  const buf = Buffer.alloc(65536);
  return {
    childFd,
    drain() {
      try {
        return Buffer.from(buf.subarray(0, readSync(readFd, buf)));
      } catch {
        return Buffer.alloc(0); // EAGAIN: empty for now
      }
    },
    write() {
      throw new Error('a deaf pipe is the child\'s to write');
    },
    close() {
      closeSync(readFd);
      closeSync(childFd);
    },
  };
}

/** A pipe the test writes into and keeps open: a child reading childFd blocks once it is empty. */
export function fedPipe(dir: string): Fifo {
  const path = mkfifo(dir);
  // O_RDWR never blocks on a FIFO and keeps a writer there, so the blocking open of the read end returns.
  const keeper = openSync(path, constants.O_RDWR);
  const childFd = openSync(path, constants.O_RDONLY);
  rmSync(path);
  let open = true;
  return {
    childFd,
    drain: () => Buffer.alloc(0),
    write(s) {
      writeSync(keeper, s);
    },
    close() {
      if (!open) return;
      open = false;
      closeSync(keeper);
      closeSync(childFd);
    },
  };
}

/** True while the process's main thread sleeps in a pipe read or write (the name varies across kernels). */
export function blockedIn(pid: number, op: 'read' | 'write'): boolean {
  try {
    return new RegExp(`pipe_${op}$`).test(readFileSync(`/proc/${pid}/wchan`, 'utf8'));
  } catch {
    return false;
  }
}
