/**
 * `keyrack set KEY`: store a value (os.secure, os.direct, or into the keyring) or
 * a reference (1password, aws.sso, pass, keyring, hashicorp, aws.secrets,
 * aws.ssm; cmd: an argv), then record the key in the registry.
 */
import { UserError, messageOf } from '../errors.js';
import { bumpGeneration } from '../generation.js';
import { dropHeld } from '../held.js';
import { readOptionalSecret, readSecret } from '../input.js';
import { assertKeyName } from '../env/names.js';
import { isVaultId, loadRegistry, VAULTS, type RegistryEntry, type VaultId } from '../registry.js';
import { DowngradeRefused, downgradeWarning, isDowngrade, isValueVault, storeReference, storeValues } from '../storekeys.js';
import { say } from '../say.js';
import { vaultFor } from '../vaults/index.js';
import { shownArgv } from '../vaults/cmd.js';
import { entryFor, type SetFlags } from './set-entry.js';

/**
 * keyring: with a value (stdin, or the prompt with --store) it goes into the
 * keyring under the attributes (default service=keyrack,key=KEY); without one
 * the key refers to an item that exists already.
 */
async function keyringEntry(key: string, entry: RegistryEntry, store: boolean, previous: RegistryEntry | undefined): Promise<RegistryEntry> {
  const { defaultRef, storeInKeyring, vault } = await import('../vaults/keyring.js');
  // Checked before the value is read, so nobody types a secret for nothing.
  const why = entry.ref === undefined ? null : vault.validate?.(entry);
  if (why) throw new UserError(`${key}: ${why}`);
  const value = await readOptionalSecret(`Value for ${key} (hidden): `, `the value for ${key}`, store);
  if (value === undefined && store) throw new UserError(`--store needs a value on stdin — nothing stored`);
  if (value === undefined && entry.ref === undefined) {
    throw new UserError(`--vault keyring needs --ref attr=value[,attr=value] (an existing item), or a value to store (on stdin, or --store for the hidden prompt)`);
  }
  const ref = entry.ref ?? defaultRef(key);
  if (value !== undefined) await storeInKeyring(key, ref, value, process.env);
  const stored = value !== undefined || (previous?.vault === 'keyring' && previous.stored === true && previous.ref === ref);
  return stored ? { vault: 'keyring', ref, stored: true } : { vault: 'keyring', ref };
}

/** A keyring item keyrack made for a key that now lives elsewhere (or under other attributes) goes too. */
async function clearOldItem(key: string, previous: RegistryEntry | undefined, entry: RegistryEntry): Promise<void> {
  if (previous?.vault !== 'keyring' || previous.stored !== true || previous.ref === undefined) return;
  if (entry.vault === 'keyring' && entry.ref === previous.ref) return;
  try {
    await (await import('../vaults/keyring.js')).clearFromKeyring(previous.ref, process.env);
  } catch (e) {
    process.stderr.write(`keyrack: ${key}: could not delete its old keyring item (${previous.ref}): ${messageOf(e)}\n`);
  }
}

/** What `set` was given: where the key goes (--vault, or where it is), its marks, a downgrade allowed. */
export interface SetOptions extends SetFlags {
  vault?: string;
  execOnly?: boolean;
  downgrade?: boolean;
}

/** The flag that says where a reference key points, for the message that asks for it. */
const pointer = (v: VaultId): string => (v === 'aws.sso' ? '--profile' : v === 'cmd' ? '-- PROG [ARG...]' : '--ref');

export async function run(key: string, o: SetOptions): Promise<number | void> {
  const env = process.env;
  assertKeyName(key);
  // A JSON object cannot hold this name as a plain key (it sets the prototype).
  if (key === '__proto__') throw new UserError('__proto__ is reserved; choose another key name');
  if (o.vault !== undefined && !isVaultId(o.vault)) throw new UserError(`unknown vault '${o.vault}'; use one of ${VAULTS.join(', ')}`);
  // A registry that fails to parse stops us before anything is stored.
  const before = loadRegistry(env).keys[key];
  const pointsAgain = o.ref !== undefined || o.profile !== undefined || o.argv !== undefined;
  // Rotating a key keeps it where it is; only --vault (or keyrack mv) moves it.
  if (o.vault === undefined && before && !isValueVault(before.vault) && before.vault !== 'keyring' && !pointsAgain) {
    throw new UserError(`${key} is a ${before.vault} key, which keeps a reference, not a value: give ${pointer(before.vault)} to change where it points, or --vault os.secure to store a value instead`);
  }
  const vaultId = (o.vault ?? before?.vault ?? 'os.secure') as VaultId;
  // A keyring key rotated in place keeps its attributes.
  const flags = vaultId === 'keyring' && before?.vault === 'keyring' && o.ref === undefined && before.ref !== undefined ? { ...o, ref: before.ref } : o;
  let entry = entryFor(key, vaultId, flags);
  if (o.execOnly) entry.execOnly = true;
  // Before asking for the value: a downgrade needs the flag (checked again under the lock).
  if (before && isDowngrade(before.vault, vaultId) && o.downgrade !== true) throw new DowngradeRefused([[key, before.vault]], vaultId);

  let previous: RegistryEntry | undefined;
  if (isValueVault(vaultId)) {
    if (vaultId === 'os.secure') {
      // Before asking for the value, so nobody types a secret for nothing.
      (await import('../vaults/secure.js')).checkReady(env);
    }
    const value = await readSecret(`Value for ${key} (hidden): `, `the value for ${key}`);
    previous = (await storeValues(vaultId, new Map([[key, value]]), env, { overwrite: true, execOnly: o.execOnly === true, downgrade: o.downgrade === true })).get(key);
  } else {
    if (vaultId === 'keyring') entry = await keyringEntry(key, entry, o.store === true, before);
    const vault = await vaultFor(vaultId);
    const why = vault.validate?.(entry);
    if (why) throw new UserError(`${key}: ${why}`);
    previous = storeReference(key, entry, env);
  }
  await clearOldItem(key, previous, entry);
  // A key moved from another vault had its old copy removed once the new one was stored.
  // The daemon may hold the old value (or the old reference's value): never serve it again.
  const wasHeld = await dropHeld(key, env);
  bumpGeneration(env);
  const where = entry.ref ? ` (${entry.ref}${entry.profile ? `, profile ${entry.profile}` : ''})`
    : entry.profile ? ` (profile ${entry.profile})` : entry.argv ? ` (${shownArgv(entry.argv)})` : '';
  const verb = vaultId === 'keyring' && !entry.stored ? `${key} refers to an item in` : `stored ${key} in`;
  say(`${verb} ${vaultId}${where}${previous && previous.vault !== vaultId ? ` (moved from ${previous.vault})` : ''}`);
  if (previous && isDowngrade(previous.vault, vaultId)) say(downgradeWarning([key], previous.vault, env));
  if (entry.execOnly || previous?.execOnly) say(`${key} is exec-only: only keyrack exec and get hand it out, never the shell hook (keyrack mark ${key} --no-exec-only to change)`);
  if (wasHeld) say(`the daemon held the old value of ${key}; locked it — keyrack unlock ${key} to load the new one`);
}
