/**
 * `keyrack get KEY`: print one value followed by a newline (like `pass`).
 * os.direct is read from its file; every other vault's value comes from the
 * session daemon, so a key that is not unlocked exits 2 with the command to run.
 * An aws.sso key prints its variables as NAME=VALUE lines. The engine computes it
 * (src/env/getkey.ts), so the daemon's answer to keyrack-fast is the same. A name
 * the registry does not map is the project's team value (team-resolve.ts), as
 * unlock put it.
 */
import { UserError } from '../errors.js';
import { getOutput } from '../env/getkey.js';
import { assertKeyName } from '../env/names.js';
import { daemonHeld } from '../daemon/source.js';
import { readRegistry } from '../registry.js';
import { words } from '../env/readiness.js';
import { closest } from '../suggest.js';

export async function run(key: string): Promise<number | void> {
  const env = process.env;
  assertKeyName(key);
  if (!readRegistry(env).keys[key]) return getTeam(key, env);
  process.stdout.write(await getOutput(key, env, daemonHeld));
}

/** A name the registry does not map: the team value the daemon holds for this project, if any. */
async function getTeam(key: string, env: NodeJS.ProcessEnv): Promise<void> {
  const { teamPlan } = await import('./team-resolve.js');
  const plan = teamPlan(env);
  if (!plan.team?.file.values.has(key)) {
    const near = closest(key, Object.keys(readRegistry(env).keys));
    throw plan.broken ?? new UserError(`${words.absent([key], 'sentence', near === undefined ? undefined : new Map([[key, near]]))}${plan.hint}`);
  }
  const { getKeys } = await import('../daemon/client.js');
  const held = (await getKeys([plan.team.storeName(key)], env))?.[plan.team.storeName(key)];
  if (!held || !('value' in held)) throw new UserError(words.locked([`${key} (team)`], 'sentence', `run keyrack unlock ${key}`));
  process.stdout.write(`${held.value}\n`);
}
