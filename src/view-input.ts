/**
 * What the read-only views (`status`, `list`: src/env/status-view.ts and
 * list-view.ts) are rendered from: what the daemon holds (names and times, never
 * values), how the client checked the daemon, where the caller stands. Below both
 * the commands and the daemon, so the Node CLI and the daemon's cli-view op (which
 * answers keyrack-fast without Node's start) hand the views the same input and
 * print the same bytes.
 */
import type { Env } from './paths.js';

/** How a client checked the daemon before it sent a byte (src/daemon/peer.ts ServerCheck, whose values these are). */
export const VERIFIED_BY = ['session', 'uid-only', 'user-wide, uid-only', 'file permissions only'] as const;
export type Verified = (typeof VERIFIED_BY)[number];

/** One key the daemon holds, as its status op reports it (src/daemon/protocol.ts KeyStatus). */
export interface HeldKeyFacts {
  name: string;
  expiresAt: number;
  idleMs?: number;
  refresh: boolean;
  execOnly?: true;
  vars?: string[];
}

/** The daemon as its status op reports it (src/daemon/protocol.ts DaemonStatus, which fits this). */
export interface DaemonFacts {
  pid: number;
  session: number | null;
  mode: 'session' | 'uid-only';
  check: string;
  startedAt: number;
  dumpable: boolean | null;
  refreshWindowMs: number;
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
