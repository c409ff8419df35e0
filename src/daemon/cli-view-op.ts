/**
 * The daemon's side of keyrack-fast's `status` and `list` (op cli-view): Node's start
 * costs more than the whole answer, so the already-running daemon renders what the
 * CLI would print, by the same views (src/env/status-view.ts, list-view.ts), from
 * its own status and store, in the caller's cwd and environment. What only the
 * client knows comes with the request: how it checked this daemon, the socket it
 * used, its session, whether its stdout is a terminal. No value is read or handed
 * out (names and times only), so nothing goes to the audit log.
 */
import { UserError } from '../errors.js';
import { listView } from '../env/list-view.js';
import { statusView } from '../env/status-view.js';
import { colorEnabled } from '../term.js';
import type { ViewOutput } from '../view-input.js';
import type { Call, Daemon } from './ops.js';
import type { CliViewRequest } from './protocol.js';

/** What the view prints for this request. */
export async function viewAnswer(req: CliViewRequest, d: Pick<Daemon, 'status'>): Promise<ViewOutput> {
  const facts = d.status();
  const caller = { env: req.env, cwd: req.cwd };
  if (req.view === 'status') {
    return statusView({ ...caller, json: req.json, session: req.session, socket: req.socket, now: Date.now(), daemon: { facts, verified: req.verified } });
  }
  return listView({
    ...caller, json: req.json, names: req.names,
    // One rule for colour: the caller's stdout, NO_COLOR and TERM, as the Node CLI decides it.
    color: colorEnabled({ isTTY: req.tty }, req.env),
    held: () => Promise.resolve({ names: new Set(facts.keys.map((k) => k.name)) }),
  });
}

/**
 * The op's handler. A refusal the CLI words itself (a registry that does not
 * parse: a UserError) is answered as an error, so keyrack-fast hands over to the
 * Node CLI, which says it; anything else is logged too.
 */
export function cliView(d: Daemon, { req, who, reply, fail }: Call<'cli-view'>): void {
  viewAnswer(req, d).then(
    (out) => reply(out),
    (e: unknown) => {
      if (!(e instanceof UserError)) d.log.line(`error in cli-view (${who}): ${(e as Error).message}`);
      fail('cli-view: the Node CLI must answer this one');
    },
  );
}
