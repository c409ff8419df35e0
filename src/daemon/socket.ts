/**
 * Claiming the session's socket: the flock that makes one daemon per session, a
 * bind that creates the socket 0600 from the start, and the probe the daemon runs
 * on its own socket (does our own caller check let us in?).
 */
import { closeSync, openSync } from 'node:fs';
import { createConnection, type Server } from 'node:net';
import { flock } from '../native.js';
import { daemonLockPath, type Env } from '../paths.js';

/** Takes the per-session daemon lock; null when another daemon holds it. */
export function takeLock(env: Env): number | null {
  const fd = openSync(daemonLockPath(env), 'a', 0o600);
  if (!flock(fd, 'ex', false)) {
    closeSync(fd);
    return null;
  }
  return fd;
}

/** Connects to our own socket and returns the first frame (hello or refusal). */
export function firstFrame(path: string): Promise<{ error?: string; reason?: string }> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    let buf = '';
    const done = (r: { error?: string; reason?: string }) => {
      s.destroy();
      resolve(r);
    };
    s.setEncoding('utf8');
    s.setTimeout(5000, () => done({ error: 'no answer on our own socket' }));
    s.on('error', (e) => done({ error: e.message }));
    s.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl === -1) return;
      try {
        const f = JSON.parse(buf.slice(0, nl)) as { error?: string; reason?: string };
        done(f.error === undefined ? {} : f);
      } catch {
        done({ error: 'bad first frame' });
      }
    });
  });
}

/**
 * Connections the kernel queues before the daemon accepts them. Node's default
 * (511) let a flood of refused callers fill it, and every other connect() then
 * failed with EAGAIN. The kernel caps it at net.core.somaxconn (4096 by default
 * since Linux 5.4); the clients' checked connect
 * (native/peer_check.h) blocks until there is room, for 5 s at most.
 */
export const LISTEN_BACKLOG = 4096;

export function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const old = process.umask(0o177); // the socket is born 0600: no window where it is looser
    server.once('error', reject);
    server.listen({ path, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve();
    });
    process.umask(old);
  });
}
