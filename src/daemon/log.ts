/**
 * The daemon's own log ($XDG_STATE_HOME/keyrack/daemon.log, 0600): lifecycle,
 * puts, locks, expiries and refusals, for people. Names, pids and reasons only,
 * never a value. A daemon that cannot write its log still serves.
 */
import { closeSync, fchmodSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ensureDir } from '../fsutil.js';

export class Log {
  private fd: number | undefined;
  constructor(path: string, private readonly echo: boolean) {
    try {
      ensureDir(dirname(path));
      this.fd = openSync(path, 'a', 0o600);
      fchmodSync(this.fd, 0o600);
    } catch {
      this.fd = undefined; // a daemon without a log still serves
    }
  }
  /** One line; callers pass names, pids and reasons — never a value. */
  line(msg: string): void {
    const text = `${new Date().toISOString()} [${process.pid}] ${msg}\n`;
    if (this.fd !== undefined) {
      try { writeSync(this.fd, text); } catch { /* disk full: keep serving */ }
    }
    if (this.echo) process.stderr.write(text);
  }
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
