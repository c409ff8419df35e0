/**
 * `keyrack list [--json] [--names]`: hands the registry's view (env/list-view.ts,
 * whose header documents the JSON) the daemon's held names and whether stdout takes
 * colour; keyrack-fast's answer comes from the same view (the daemon's cli-view op).
 */
import { withDaemon } from '../daemon/client.js';
import { listView, type HeldNames } from '../env/list-view.js';
import { messageOf } from '../errors.js';
import { forHumans } from '../printable.js';
import { colorEnabled } from '../term.js';

/** Names the daemon holds now; none when no daemon runs, and a warning when it cannot be asked. */
async function held(env: NodeJS.ProcessEnv): Promise<HeldNames> {
  try {
    const status = await withDaemon(env, async (c) => (await c.request({ op: 'status' })).status);
    return { names: new Set((status?.keys ?? []).map((k) => k.name)) };
  } catch (e) {
    return { names: new Set(), warning: `keyrack: could not ask the daemon (${forHumans(messageOf(e))}); showing keys as locked\n` };
  }
}

export async function run(o: { json: boolean; names?: boolean }): Promise<number | void> {
  const env = process.env;
  const out = await listView({ env, json: o.json, names: o.names === true, color: colorEnabled(process.stdout, env), held: () => held(env) });
  process.stderr.write(out.stderr);
  process.stdout.write(out.stdout);
  return out.code;
}
