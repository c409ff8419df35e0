/**
 * The daemon's connections. Every one passes the kernel caller check (peer.ts)
 * before it gets a hello; then newline-delimited requests come in, each goes to its
 * op's handler (ops.ts), and the answers go out in order. One bad or slow client
 * only ever loses its own connection.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { callerOf, releaseCaller, type AuditLog } from './audit.js';
import type { Lifecycle } from './lifecycle.js';
import type { Log } from './log.js';
import { dispatch, type Daemon } from './ops.js';
import type { CallerCheck, Verdict } from './peer.js';
import { encodeFrame, FrameDecoder, IDLE_TIMEOUT_MS, MAX_FRAME, parseRequest, type Hello, type Response } from './protocol.js';
import { Refusals } from './refusals.js';

/** A client that lets this much of our output pile up unread is dropped. */
const MAX_UNREAD = 4 * MAX_FRAME;
/** Generous: hundreds of shells may hold a connection for a moment. */
const MAX_CONNECTIONS = 2000;

/** What a connection needs of the daemon. */
export interface ServerParts {
  check: CallerCheck;
  audit: AuditLog;
  log: Log;
  life: Lifecycle;
  daemon: Daemon;
  /** The hello a caller that passed the check gets (it carries the generation now). */
  hello(): Hello;
  /** The audit session of a caller that passed (a user-wide daemon serves several). */
  sawSession(session: number): void;
}

/** The unix-socket server; the caller listens. */
export function createDaemonServer(parts: ServerParts): Server {
  // Paused: nothing is read from a caller before it passed the check (serve resumes it).
  const server = createServer({ pauseOnConnect: true });
  const refusals = new Refusals();
  server.maxConnections = MAX_CONNECTIONS;
  server.on('connection', (s: Socket) => {
    try {
      // The caller check before anything else: no hello, JSON or state for a refused peer.
      const verdict = parts.check.verify(s);
      if (verdict.ok) serve(s, verdict, parts);
      else refuse(s, verdict, parts, refusals);
    } catch (e) {
      parts.log.line(`connection setup failed: ${(e as Error).message}`);
      s.destroy();
    }
  });
  server.on('error', (e) => parts.log.line(`server error: ${e.message}`));
  server.on('close', () => refusals.closeAll());
  return server;
}

/** A flood of refused callers costs little (refusals.ts); the audit record and log line are rate-limited. */
function refuse(s: Socket, verdict: Verdict & { ok: false }, { audit, log }: ServerParts, refusals: Refusals): void {
  if (audit.refused(verdict, verdict.reason)) log.line(`refused pid ${verdict.pid ?? '?'} uid ${verdict.uid ?? '?'}: ${verdict.reason}`);
  refusals.refuse(s, verdict.reason);
}

function serve(s: Socket, verdict: Verdict & { ok: true }, { log, life, daemon, hello, sawSession }: ServerParts): void {
  s.on('error', () => { /* a client vanished; 'close' cleans up */ });
  life.track(s);
  const who = verdict.pid === null ? 'unchecked peer' : `pid ${verdict.pid}`;
  const caller = callerOf(verdict);
  s.on('close', () => releaseCaller(caller));
  if (caller.session !== null) sawSession(caller.session);
  const decoder = new FrameDecoder();
  s.setEncoding('utf8');
  s.setTimeout(IDLE_TIMEOUT_MS, () => s.destroy());
  const reply = (r: Response, after?: () => void) => {
    if (s.destroyed) return after?.();
    if (s.writableLength > MAX_UNREAD) {
      log.line(`dropped ${who}: it does not read its answers`);
      s.destroy();
      return;
    }
    s.write(encodeFrame(r), after ? () => after() : undefined);
  };
  s.on('data', (chunk: string) => {
    let frames: unknown[];
    try {
      frames = decoder.push(chunk);
    } catch (e) {
      log.line(`closed ${who}: ${(e as Error).message}`);
      s.destroy();
      return;
    }
    for (const f of frames) {
      if (s.destroyed || life.stopping) return;
      const req = parseRequest(f as Record<string, unknown>);
      if ('error' in req) {
        if (req.id === undefined) {
          log.line(`closed ${who}: ${req.error}`);
          s.destroy();
          return;
        }
        reply({ id: req.id, ok: false, error: req.error });
        continue;
      }
      const { id } = req;
      try {
        dispatch(req.op, daemon, {
          req, who, caller,
          reply: (fields, after) => reply({ id, ok: true, ...fields }, after),
          fail: (error) => reply({ id, ok: false, error }),
        });
      } catch (e) {
        log.line(`error in ${req.op} (${who}): ${(e as Error).message}`);
        reply({ id, ok: false, error: `internal error in ${req.op}` });
      }
    }
  });
  s.write(encodeFrame(hello()));
  s.resume();
}
