/**
 * `keyrack get KEY`: print one value followed by a newline (like `pass`).
 * os.direct is read from its file; every other vault's value comes from the
 * session daemon, so a key that is not unlocked exits 2 with the command to run.
 * An aws.sso key prints its variables as NAME=VALUE lines.
 */
import { UserError } from '../errors.js';
import { assertKeyName } from '../env/names.js';
import { words } from '../env/readiness.js';
import { loadRegistry } from '../registry.js';
import { closest } from '../suggest.js';

export async function run(key: string): Promise<number | void> {
  const env = process.env;
  assertKeyName(key);
  const reg = loadRegistry(env);
  const entry = reg.keys[key];
  if (!entry) {
    const near = closest(key, Object.keys(reg.keys));
    throw new UserError(words.absent([key], 'sentence', near === undefined ? undefined : new Map([[key, near]])));
  }

  let out: string;
  if (entry.vault === 'os.direct') {
    const { readDirect, missingDirect } = await import('../vaults/direct.js');
    const v = readDirect([key], env).get(key);
    if (v === undefined) throw missingDirect(key, env);
    out = `${v}\n`;
  } else {
    const { getKeys } = await import('../daemon/client.js');
    const held = (await getKeys([key], env))?.[key];
    if (!held) throw new UserError(words.locked([key], 'sentence', `run keyrack unlock ${key}`));
    out = 'value' in held ? `${held.value}\n` : Object.entries(held.env).map(([k, v]) => `${k}=${v}\n`).join('');
  }
  process.stdout.write(out);
}
