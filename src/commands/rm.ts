/** `keyrack rm KEY`: remove the key from its vault, then from the registry. */
import { UserError } from '../errors.js';
import { bumpGeneration } from '../generation.js';
import { dropHeld } from '../held.js';
import { assertKeyName } from '../env/names.js';
import { loadRegistry, updateRegistry } from '../registry.js';
import { closest } from '../suggest.js';
import { removeLocalValue } from '../storekeys.js';

export async function run(key: string): Promise<number | void> {
  const env = process.env;
  assertKeyName(key);
  const reg = loadRegistry(env);
  const entry = reg.keys[key];
  if (!entry) {
    const near = closest(key, Object.keys(reg.keys));
    throw new UserError(`${key} is absent: nothing to remove${near ? ` — did you mean ${near}?` : ''} (keyrack list shows your keys)`);
  }
  // Vault first: if that fails the registry still points at the value, so rm can be retried.
  removeLocalValue(key, entry.vault, env);
  updateRegistry(env, (r) => {
    delete r.keys[key];
  });
  const wasHeld = await dropHeld(key, env);
  bumpGeneration(env);
  process.stderr.write(`keyrack: removed ${key} from ${entry.vault}${wasHeld ? ' and from the daemon' : ''}\n`);
}
