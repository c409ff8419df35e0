/**
 * `keyrack rm KEY`: remove the key from its vault, then from the registry. When an
 * allowed manifest still lists it, a person at a terminal is asked first (a script
 * is only told): its projects would lose the key.
 */
import { isatty } from 'node:tty';
import { UserError } from '../errors.js';
import { bumpGeneration } from '../generation.js';
import { dropHeld } from '../held.js';
import { askYesNo } from '../input.js';
import { readManifest } from '../env/manifest.js';
import { assertKeyName } from '../env/names.js';
import { allowedManifests } from '../env/trust.js';
import { teamHolds } from '../env/team-here.js';
import { forHumans } from '../printable.js';
import { loadRegistry, updateRegistry } from '../registry.js';
import { say } from '../say.js';
import { removeLocalValue } from '../storekeys.js';
import { closest } from '../suggest.js';

/** The allowed manifests (as they are now) that list `key` and would lose it: their team file does not hold it. */
function manifestsUsing(key: string, env: NodeJS.ProcessEnv): string[] {
  const parse = (p: string) => {
    try {
      return readManifest(p);
    } catch {
      return undefined; // gone, unreadable or broken: it uses nothing now
    }
  };
  const loses = (p: string) => {
    const m = parse(p);
    return m !== undefined && m.entries.some((e) => e.key === key) && !teamHolds(m, key);
  };
  return allowedManifests(env, (p) => parse(p)?.content).filter(loses);
}

export async function run(key: string): Promise<number | void> {
  const env = process.env;
  assertKeyName(key);
  const reg = loadRegistry(env);
  const entry = reg.keys[key];
  if (!entry) {
    const near = closest(key, Object.keys(reg.keys));
    throw new UserError(`${key} is absent: nothing to remove${near ? ` — did you mean ${near}?` : ''} (keyrack list shows your keys)`);
  }
  const users = manifestsUsing(key, env);
  if (users.length > 0) {
    const which = users.length === 1 ? users[0]! : `${users.length} allowed manifests (${users.slice(0, 3).join(', ')}${users.length > 3 ? ', …' : ''})`;
    if (isatty(0) && isatty(2)) {
      if (!await askYesNo(forHumans(`${key} is listed by ${which}: remove it anyway? [y/N] `))) throw new UserError(`kept ${key}; nothing removed`);
    } else {
      say(`note: ${key} is still listed by ${which}`);
    }
  }
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
  say(`removed ${key} from ${entry.vault}${wasHeld ? ' and from the daemon' : ''}`);
}
