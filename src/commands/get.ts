/**
 * `keyrack get KEY`: print one value followed by a newline (like `pass`).
 * os.direct is read from its file; every other vault's value comes from the
 * session daemon, so a key that is not unlocked exits 2 with the command to run.
 * An aws.sso key prints its variables as NAME=VALUE lines. A name the registry
 * does not map is the project's team value (team-resolve.ts), as unlock put it.
 */
import { UserError } from '../errors.js';
import { assertKeyName } from '../env/names.js';
import { loadRegistry } from '../registry.js';

export async function run(key: string): Promise<number | void> {
  const env = process.env;
  assertKeyName(key);
  const entry = loadRegistry(env).keys[key];
  if (!entry) return getTeam(key, env);

  let out: string;
  if (entry.vault === 'os.direct') {
    const { readDirect, missingDirect } = await import('../vaults/direct.js');
    const v = readDirect([key], env).get(key);
    if (v === undefined) throw missingDirect(key, env);
    out = `${v}\n`;
  } else {
    const { getKeys } = await import('../daemon/client.js');
    const held = (await getKeys([key], env))?.[key];
    if (!held) throw new UserError(`${key} is locked — run keyrack unlock ${key}`);
    out = 'value' in held ? `${held.value}\n` : Object.entries(held.env).map(([k, v]) => `${k}=${v}\n`).join('');
  }
  process.stdout.write(out);
}

/** A name the registry does not map: the team value the daemon holds for this project, if any. */
async function getTeam(key: string, env: NodeJS.ProcessEnv): Promise<void> {
  const { teamPlan } = await import('./team-resolve.js');
  const plan = teamPlan(env);
  if (!plan.team?.file.values.has(key)) throw plan.broken ?? new UserError(`no key ${key}; keyrack set ${key}${plan.hint}`);
  const { getKeys } = await import('../daemon/client.js');
  const held = (await getKeys([plan.team.storeName(key)], env))?.[plan.team.storeName(key)];
  if (!held || !('value' in held)) throw new UserError(`${key} (team) is locked — run keyrack unlock ${key}`);
  process.stdout.write(`${held.value}\n`);
}
