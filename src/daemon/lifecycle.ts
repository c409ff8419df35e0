/**
 * The daemon's lifetime: it exits once nothing is held and nobody has been
 * connected for a minute — or, once a shell hook has asked it for an export, for
 * half an hour, so hooked shells keep a warm daemon between bursts of `cd`s (a
 * user-wide daemon never exits when idle) — and every way out —
 * idle, `stop`, a signal — purges memory, wakes the shells and drops the lock.
 */
import type { Socket } from 'node:net';
import { BurstGc } from './burst-gc.js';

/** With no keys held and no client connected for this long, the daemon exits. */
export const IDLE_EXIT_MS = 60_000;
/**
 * The same, once a hook has asked for an export (keyrack-fast starts the daemon
 * for hooked shells): each export restarts it, so the daemon stays while a shell
 * keeps moving and leaves after a working session's lull. It holds no os.direct
 * value between requests, so staying costs memory, not exposure.
 */
export const HOOKED_IDLE_EXIT_MS = 30 * 60_000;

/** What the lifecycle stops, in the order it stops them. */
export interface LifecycleParts {
  /** Closes the listening socket (libuv unlinks its path). */
  stopListening(): void;
  store: { readonly size: number; clear(): void };
  log(line: string): void;
  /** Bumps the generation: the shells re-export once every key is gone. */
  bump(): void;
  /** Closes the logs and the session lock, so the next daemon may start. */
  closeFiles(): void;
  /** A user-wide daemon serves every session and never exits when idle. */
  shared: boolean;
  /** Collects after a burst of connections (burst-gc.ts); the default uses V8's exposed gc. */
  gc?: BurstGc;
}

/** Tracks what keeps the daemon alive, and ends it the one way. */
export class Lifecycle {
  private readonly conns = new Set<Socket>();
  private idleTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private hooked = false;
  private readonly gc: BurstGc;

  constructor(private readonly p: LifecycleParts) {
    this.gc = p.gc ?? new BurstGc();
  }

  /** True once shutting down: no request is served any more. */
  get stopping(): boolean {
    return this.stopped;
  }

  /** Counts a connection until it closes: a daemon with one open does not idle out. */
  track(s: Socket): void {
    this.conns.add(s);
    this.gc.opened();
    this.armIdle();
    s.on('close', () => {
      this.conns.delete(s);
      this.armIdle();
      this.gc.closed(this.conns.size);
    });
  }

  /** A shell hook asked for an export: idle exit waits HOOKED_IDLE_EXIT_MS from now on. */
  hookAsked(): void {
    this.hooked = true;
    this.armIdle();
  }

  /** (Re)starts the idle-exit timer when nothing is held and nobody is connected. */
  armIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (!this.stopped && !this.p.shared && this.p.store.size === 0 && this.conns.size === 0) {
      const ms = this.hooked ? HOOKED_IDLE_EXIT_MS : IDLE_EXIT_MS;
      this.idleTimer = setTimeout(() => this.shutdown(`idle and empty for ${ms / 1000}s`), ms);
    }
  }

  /** Purges memory, tells the shells, logs why and exits the process. */
  shutdown(why: string): void {
    if (this.stopped) return;
    this.stopServing();
    this.p.bump(); // shells re-export: every key is gone
    this.p.log(`stopping: ${why}; memory purged`);
    this.p.closeFiles();
    process.exit(0);
  }

  /** The same without a word or an exit: a daemon that failed its own start. */
  shutdownQuiet(): void {
    this.stopServing();
    this.p.closeFiles();
  }

  /** Drops every value and connection and stops listening (libuv unlinks the socket path). */
  private stopServing(): void {
    this.stopped = true;
    this.p.store.clear();
    clearTimeout(this.idleTimer);
    this.gc.stop();
    this.p.stopListening();
    for (const c of this.conns) c.destroy();
  }
}
