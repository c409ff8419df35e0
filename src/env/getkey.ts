/**
 * What `keyrack get KEY` prints, as the engine computes it for both the CLI and the
 * daemon (which answers keyrack-fast's `get` without Node's start): os.direct is
 * read from its file, every other vault's value comes from the held values handed
 * in. A refusal is a UserError, said the same way by whichever side prints it.
 */
import { UserError } from '../errors.js';
import { readRegistry } from '../registry.js';
import { closest } from '../suggest.js';
import { assertKeyName } from './names.js';
import { words } from './readiness.js';
import type { Env } from '../paths.js';
import { directVault, type HeldGetter } from './scope.js';

/** The stdout of `get KEY`: the value and a newline, or an aws.sso key's NAME=VALUE lines. */
export async function getOutput(key: string, env: Env, getHeld: HeldGetter, onDirect?: (keys: string[]) => void): Promise<string> {
  assertKeyName(key);
  const keys = readRegistry(env).keys;
  const entry = keys[key];
  if (!entry) {
    const near = closest(key, Object.keys(keys));
    throw new UserError(words.absent([key], 'sentence', near === undefined ? undefined : new Map([[key, near]])));
  }
  if (entry.vault === 'os.direct') {
    const { readDirect, missingDirect } = await directVault();
    const v = readDirect([key], env).get(key);
    if (v === undefined) throw missingDirect(key, env);
    onDirect?.([key]);
    return `${v}\n`;
  }
  // get hands out exec-only keys too (only the hook never gets them).
  const held = (await getHeld([key], env, 'exec'))?.[key];
  if (!held) throw new UserError(words.locked([key], 'sentence', `run keyrack unlock ${key}`));
  return 'value' in held ? `${held.value}\n` : Object.entries(held.env).map(([k, v]) => `${k}=${v}\n`).join('');
}
