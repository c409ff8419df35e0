/**
 * Gives back what a burst of connections grew. 500 shells that `cd` at once leave
 * the daemon's heap holding the garbage of 500 requests, which V8 collects only
 * when it next needs room — in a daemon that then sits idle, never: its RSS stayed
 * up by 10–15 MB. So once the last connection of a burst has closed and the daemon
 * has been quiet for a moment, one full collection (V8's `gc`, exposed by the
 * daemon's --expose-gc: client.ts DAEMON_NODE_FLAGS). A daemon started without
 * the flag (a hand-written unit file) just skips it.
 */

/** Connections served since the last collection before a quiet moment is worth one. */
export const BURST_CONNECTIONS = 50;
/** How long the daemon must have had no connection open. */
export const QUIET_MS = 300;

/** V8's full collection when the process exposes it. */
function exposedGc(): (() => void) | undefined {
  const g = (globalThis as { gc?: unknown }).gc;
  return typeof g === 'function' ? (g as () => void) : undefined;
}

export class BurstGc {
  private served = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly collect: (() => void) | undefined = exposedGc()) {}

  /** A connection opened: a pending collection waits for the next quiet moment. */
  opened(): void {
    this.served++;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A connection closed, `open` are still open. */
  closed(open: number): void {
    if (open > 0 || this.served < BURST_CONNECTIONS || !this.collect) return;
    clearTimeout(this.timer);
    const collect = this.collect;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.served = 0;
      collect();
    }, QUIET_MS).unref();
  }

  /** Shutting down: nothing left to collect for. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
