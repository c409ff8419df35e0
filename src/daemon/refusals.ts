/**
 * Shedding refused callers cheaply, so a flood of them cannot starve the owner
 * (issue 10): a refused peer is never read (the server pauses every connection
 * until it passed its check), gets one refusal frame and our FIN, and holds no
 * timer of its own, no idle-keeping slot and no state beyond this bounded list.
 *
 * It is not closed at once: a client that wrote before reading (keyrack's own
 * never do) would get EPIPE and lose its refusal. So up to LINGER_MAX refused
 * sockets stay open a moment, closed by one shared sweep (bounded fds, far below
 * the server's maxConnections); past that — a flood — each is closed as soon as
 * its refusal is written, which is cheaper (lingering costs ~20 µs per refusal).
 */
import type { Socket } from 'node:net';
import { encodeFrame } from './protocol.js';

/** Refused sockets kept open at most at once. */
const LINGER_MAX = 256;
/**
 * How long a refused socket stays open, at most (its peer has our refusal and FIN at
 * once, and reads them in microseconds). Short, so that only a real flood, not a busy
 * moment (hundreds a second), reaches LINGER_MAX and loses refusals to ECONNRESET.
 */
const LINGER_MS = 250;

export class Refusals {
  /** Socket → when it was refused; insertion order is age order. */
  private readonly lingering = new Map<Socket, number>();
  private sweep: NodeJS.Timeout | undefined;

  refuse(s: Socket, reason: string): void {
    s.on('error', () => { /* it may be gone already */ });
    const frame = encodeFrame({ error: 'refused', reason });
    if (this.lingering.size >= LINGER_MAX) {
      // A flood: closed as soon as the refusal is written, the cheapest way out.
      s.end(frame, () => s.destroy());
      return;
    }
    s.once('close', () => this.lingering.delete(s));
    s.end(frame);
    this.lingering.set(s, Date.now());
    this.sweep ??= setInterval(() => this.closeOld(), LINGER_MS / 4).unref();
  }

  /** Closes every refused socket still open (the daemon is stopping). */
  closeAll(): void {
    for (const s of this.lingering.keys()) s.destroy();
    this.lingering.clear();
    clearInterval(this.sweep);
    this.sweep = undefined;
  }

  private closeOld(): void {
    const cutoff = Date.now() - LINGER_MS;
    for (const [s, at] of this.lingering) {
      if (at > cutoff) break;
      s.destroy(); // its 'close' removes it
      this.lingering.delete(s);
    }
    if (this.lingering.size === 0) {
      clearInterval(this.sweep);
      this.sweep = undefined;
    }
  }
}
