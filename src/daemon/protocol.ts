/**
 * The daemon's wire protocol, version 1: newline-delimited JSON frames over the
 * unix socket. The server speaks first (hello, after the caller passed the kernel
 * checks); then the client sends requests with an id and gets one response each.
 * Frames are capped: a longer line, or one that is not a JSON object, closes
 * that connection only.
 */

export const PROTOCOL_VERSION = 1;
export const MAX_FRAME = 1024 * 1024;
/** A connection that sends nothing for this long is closed. */
export const IDLE_TIMEOUT_MS = 30_000;

/** A value as the daemon holds it: one string, or several variables (aws.sso). */
export type Secret = { value: string } | { env: Record<string, string> };

export type HeldKey = Secret & {
  /** Absolute expiry, epoch ms: min(now + ttl, the vault's own expiry). */
  expiresAt: number;
};

/** Where a value came from, so the daemon can refresh it before it expires. */
export interface Source {
  vault: string;
  profile?: string;
}

export interface Hello {
  keyrack: typeof PROTOCOL_VERSION;
  pid: number;
  /** Audit session id, or null in uid-only mode. */
  session: number | null;
  mode: 'session' | 'uid-only';
  gen: string;
}

export interface Refused {
  error: 'refused';
  reason: string;
}

export type Request =
  | { id: number; op: 'ping' }
  | { id: number; op: 'get'; keys: string[] }
  | { id: number; op: 'put'; ttlMs: number; keys: Record<string, Secret & { expiresAt?: number; source?: Source }> }
  | { id: number; op: 'lock'; keys?: string[] }
  | { id: number; op: 'status' }
  | { id: number; op: 'stop' };

export interface KeyStatus {
  name: string;
  expiresAt: number;
  /** Will the daemon re-fetch it before expiry (aws.sso)? */
  refresh: boolean;
  vars?: string[];
}

export interface DaemonStatus {
  pid: number;
  session: number | null;
  mode: 'session' | 'uid-only';
  check: string;
  startedAt: number;
  socket: string;
  gen: string;
  keys: KeyStatus[];
}

export type Response =
  | { id: number; ok: true; keys?: Record<string, HeldKey>; removed?: string[]; status?: DaemonStatus; gen?: string }
  | { id: number; ok: false; error: string };

export function encodeFrame(msg: unknown): string {
  return JSON.stringify(msg) + '\n';
}

/**
 * Splits a byte stream into frames. Throws on a frame over MAX_FRAME or one that
 * is not a JSON object; the caller closes the connection.
 */
export class FrameDecoder {
  private buf = '';

  push(chunk: string): unknown[] {
    this.buf += chunk;
    const out: unknown[] = [];
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) !== -1) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (Buffer.byteLength(line) > MAX_FRAME) throw new Error('frame too large');
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        throw new Error('frame is not JSON');
      }
      if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) throw new Error('frame is not a JSON object');
      out.push(msg);
    }
    if (Buffer.byteLength(this.buf) > MAX_FRAME) throw new Error('frame too large');
    return out;
  }
}
