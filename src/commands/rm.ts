/** `keyrack rm KEY`: remove the key from its vault, then from the registry. */
import { UserError } from '../errors.js';
import { bumpGeneration } from '../generation.js';
import { dropHeld } from '../held.js';
import { assertKeyName } from '../env/names.js';
import { loadRegistry, updateRegistry } from '../registry.js';
import { removeLocalValue } from '../storekeys.js';

export async function run(key: string): Promise<number | void> {
  const env = process.env;
  assertKeyName(key);
  const entry = loadRegistry(env).keys[key];
  if (!entry) throw new UserError(`no key ${key} in the registry (keyrack list shows the keys)`);
  // Vault first: if that fails the registry still points at the value, so rm can be retried.
  removeLocalValue(key, entry.vault, env);
  // A keyring item keyrack stored goes too; one the key merely referred to is the user's.
  if (entry.vault === 'keyring' && entry.stored === true && entry.ref !== undefined) {
    await (await import('../vaults/keyring.js')).clearFromKeyring(entry.ref, env);
  }
  updateRegistry(env, (r) => {
    delete r.keys[key];
  });
  const wasHeld = await dropHeld(key, env);
  bumpGeneration(env);
  process.stderr.write(`keyrack: removed ${key} from ${entry.vault}${wasHeld ? ' and from the daemon' : ''}\n`);
}
