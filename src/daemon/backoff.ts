/**
 * Passphrase back-off, held per session by the daemon (so a new `unlock` process
 * does not start from zero): 1 s after the first wrong passphrase, doubling, at
 * most 30 s; a right one resets it.
 */
const BACKOFF_MAX_MS = 30_000;

/** The failures in a row, and when the last one was. */
export class Backoff {
  private failures = 0;
  private last = 0;

  /** Records one attempt; returns how many failures in a row there are now. */
  record(outcome: 'failure' | 'success'): number {
    if (outcome === 'failure') {
      this.failures++;
      this.last = Date.now();
    } else {
      this.failures = 0;
    }
    return this.failures;
  }

  /** How long to wait before asking the passphrase again (0: ask now). */
  delayMs(): number {
    if (this.failures === 0) return 0;
    const wait = Math.min(1000 * 2 ** (this.failures - 1), BACKOFF_MAX_MS);
    return Math.max(0, this.last + wait - Date.now());
  }
}
