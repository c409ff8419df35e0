/**
 * One handler per op of the protocol, in one table: what each request does to the
 * daemon's state and what it answers, typed per op (protocol.ts Replies). The
 * connection (server.ts) parses the request and sends the answer.
 */
import { formatDuration } from '../duration.js';
import { readRegistry } from '../registry.js';
import type { AuditLog, Caller } from './audit.js';
import type { Backoff } from './backoff.js';
import type { Log } from './log.js';
import type { DaemonStatus, Op, Replies, RequestOf } from './protocol.js';
import type { Store } from './store.js';
import { lockWords } from './lock-words.js';
import { lazy } from '../lazy.js';

/** Loaded on first use (only keyrack-fast asks for them), then kept: see lazy.ts. */
const exportOp = lazy(() => import('./export-op.js'));
const cliViewOp = lazy(() => import('./cli-view-op.js'));

/** The daemon's state, as the handlers see it. */
export interface Daemon {
  store: Store;
  audit: AuditLog;
  log: Log;
  backoff: Backoff;
  /** The generation token now. */
  gen(): string;
  status(): DaemonStatus;
  shutdown(why: string): void;
  /** A shell hook asked (an export): the daemon waits longer before an idle exit (lifecycle.ts). */
  hookAsked(): void;
}

/** One request on one connection. */
export interface Call<O extends Op> {
  req: RequestOf<O>;
  /** Who asks, for daemon.log ("pid 123"). */
  who: string;
  /** Who asks, for the audit log (audit.record's `peer`). */
  caller: Caller;
  /** Sends the answer; `after` runs once it is written. */
  reply(fields: Replies[O], after?: () => void): void;
  /** Answers with an error (never quoting the request: it may hold a secret). */
  fail(error: string): void;
}

type Handlers = { [O in Op]: (d: Daemon, call: Call<O>) => void };

const OPS: Handlers = {
  ping: (d, { reply }) => reply({ gen: d.gen() }),
  get(d, { req, caller, reply }) {
    // For an export: never a key the user marked exec-only (the daemon's registry), nor one held for exec only.
    const keys = d.store.get(req.purpose === 'export' ? withoutExecOnly(req.keys) : req.keys, req.purpose);
    // before the values leave; for exec's Node path, one exec record naming the program
    d.audit.record({ op: req.program ? 'exec' : 'get', keys: Object.keys(keys), peer: caller, ...(req.program && { program: req.program }) });
    reply({ keys });
  },
  put(d, { req, who, reply }) {
    d.store.put(req.keys, req.ttlMs, req.idleMs, req.execOnly);
    const idle = req.idleMs === undefined ? '' : `, idle ${formatDuration(req.idleMs)}`;
    d.log.line(`put ${Object.keys(req.keys).join(',')} for ${formatDuration(req.ttlMs)}${idle}${req.execOnly ? ', exec only' : ''} (${who})`);
    reply({ gen: d.gen() });
  },
  lock(d, { req, who, reply }) {
    const removed = d.store.lock(req.keys);
    d.log.line(`lock ${req.keys ? req.keys.join(',') : 'all'}: removed ${removed.length} (${who})`);
    reply({ removed, gen: d.gen(), said: lockWords(req.keys ?? [], removed) });
  },
  status: (d, { reply }) => reply({ status: d.status() }),
  stop: (d, { who, reply }) => reply({}, () => d.shutdown(`stop requested (${who})`)),
  backoff(d, { req, who, reply }) {
    if (req.record !== undefined) {
      const failures = d.backoff.record(req.record);
      if (req.record === 'failure') d.log.line(`wrong passphrase (failure ${failures}) (${who})`);
    }
    reply({ delayMs: d.backoff.delayMs() });
  },
  export: fast,
  'exec-env': fast,
  'cli-get': fast,
  // keyrack-fast's status and list, loaded on first use.
  'cli-view': (d, call) => void cliViewOp().then(({ cliView }) => cliView(d, call), () => call.fail('cli-view failed')),
};

/** The native fast paths (export-op.ts), loaded on first use: only keyrack-fast asks for them. */
function fast<O extends 'export' | 'exec-env' | 'cli-get'>(d: Daemon, { req, who, caller, reply, fail }: Call<O>): void {
  if (req.op === 'export') d.hookAsked();
  void exportOp()
    .then(({ answerFast }) => answerFast(req, (names) => d.store.get(names, req.op === 'export' ? 'export' : undefined)))
    .then(
      (r) => {
        const program = req.op === 'exec-env' ? req.program : undefined;
        d.audit.record({ op: r.audit, keys: r.handed, peer: caller, ...(program && { program }) });
        reply(r.fields);
      },
      (e: unknown) => {
        d.log.line(`error in ${req.op} (${who}): ${(e as Error).message}`);
        fail(`${req.op} failed`);
      },
    );
}

/** `names` minus the keys this user's registry marks exec-only (its cached parse: registry.ts readRegistry). */
function withoutExecOnly(names: string[]): string[] {
  const keys = readRegistry(process.env).keys;
  return names.filter((n) => !keys[n]?.execOnly);
}

/** Runs the handler of `op`; a throw is the caller's to log and answer. */
export function dispatch<O extends Op>(op: O, d: Daemon, call: Call<O>): void {
  OPS[op](d, call);
}
