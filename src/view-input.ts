/**
 * What the read-only views (`status`, `list`: src/env/status-view.ts and
 * list-view.ts) are rendered from: what the daemon holds (names and times, never
 * values), how the client checked the daemon, where the caller stands. Below both
 * the commands and the daemon, so the Node CLI and the daemon's cli-view op (which
 * answers keyrack-fast without Node's start) hand the views the same input and
 * print the same bytes.
 */
import type { Env } from './paths.js';

/** How a client checked the daemon before it sent a byte (src/daemon/peer.ts ServerCheck is this). */
export const VERIFIED_BY = ['session', 'uid-only', 'user-wide, uid-only', 'file permissions only'] as const;
export type Verified = (typeof VERIFIED_BY)[number];

/** One key the daemon holds, as its status op reports it (src/daemon/protocol.ts KeyStatus is this). */
export interface HeldKeyFacts {
  name: string;
  expiresAt: number;
  /** Dropped once unused for this long (unlock --idle); absent when not set. */
  idleMs?: number;
  /** Will the daemon re-fetch it before expiry (aws.sso)? */
  refresh: boolean;
  /** Held for exec only (exec unlocked it on a terminal): no export gets it. */
  execOnly?: true;
  vars?: string[];
}

/** The daemon as its status op reports it (src/daemon/protocol.ts DaemonStatus extends this). */
export interface DaemonFacts {
  pid: number;
  session: number | null;
  mode: 'session' | 'uid-only';
  check: string;
  startedAt: number;
  /** False once the daemon made itself non-dumpable; null without the native module. */
  dumpable: boolean | null;
  /** Refreshable keys are re-fetched this long before they expire. */
  refreshWindowMs: number;
  /** A user-wide daemon (protocol.ts Hello.shared). */
  shared?: boolean;
  keys: HeldKeyFacts[];
}

/** Where the caller stands: its environment and its cwd (undefined: this process's own). */
export interface Caller {
  env: Env;
  cwd?: string;
}

/** What a command prints and exits with, whichever side rendered it. */
export interface ViewOutput {
  code: number;
  stdout: string;
  stderr: string;
}
