/**
 * `keyrack status [--json]`: asks the daemon what it holds and hands that, with how
 * this client checked it, to the view (env/status-view.ts, whose header documents the
 * JSON), which keyrack-fast's answer comes from too (the daemon's cli-view op).
 */
import { withDaemon } from '../daemon/client.js';
import { statusView } from '../env/status-view.js';
import { sessionId, socketPath } from '../paths.js';

export async function run(o: { json: boolean }): Promise<number | void> {
  const env = process.env;
  const got = await withDaemon(env, async (c) => ({ facts: (await c.request({ op: 'status' })).status, path: c.path, verified: c.check }));
  const out = await statusView({
    env, json: o.json, session: sessionId(), socket: got?.path ?? socketPath(env, false), now: Date.now(),
    daemon: got ? { facts: got.facts, verified: got.verified } : null,
  });
  process.stdout.write(out.stdout);
  process.stderr.write(out.stderr);
  return out.code;
}
