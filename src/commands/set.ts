/**
 * `keyrack set KEY`: store a value (os.secure, os.direct) or a reference
 * (1password --ref, aws.sso --profile), then record the key in the registry.
 */
import { UserError } from '../errors.js';
import { bumpGeneration } from '../generation.js';
import { dropHeld } from '../held.js';
import { readSecret } from '../input.js';
import { ENV_NAME, assertKeyName } from '../env/names.js';
import { isVaultId, loadRegistry, VAULTS, type RegistryEntry, type VaultId } from '../registry.js';
import { DowngradeRefused, downgradeWarning, isDowngrade, isValueVault, storeReference, storeValues } from '../storekeys.js';
import { say } from '../say.js';
import { vaultFor } from '../vaults/index.js';

function entryFor(key: string, vault: VaultId, o: { ref?: string; profile?: string }): RegistryEntry {
  if (o.ref !== undefined && vault !== '1password') throw new UserError('--ref is only for --vault 1password');
  if (o.profile !== undefined && vault !== 'aws.sso') throw new UserError('--profile is only for --vault aws.sso');
  if (vault === '1password') {
    if (!o.ref) throw new UserError('--vault 1password needs --ref op://vault/item/field');
    return { vault, ref: o.ref };
  }
  if (vault === 'aws.sso') {
    if (!o.profile) throw new UserError('--vault aws.sso needs --profile NAME (an AWS CLI profile)');
    // A manifest names an aws.sso key bare (it expands to AWS_* and cannot be aliased),
    // so its name must be usable as a manifest line.
    if (!ENV_NAME.test(key)) throw new UserError(`an aws.sso key name must match ${ENV_NAME.source} so a .keyrack can list it (no '-' or '.')`);
    return { vault, profile: o.profile };
  }
  return { vault };
}

export async function run(key: string, o: { vault?: string; ref?: string; profile?: string; downgrade?: boolean }): Promise<number | void> {
  const env = process.env;
  assertKeyName(key);
  // A JSON object cannot hold this name as a plain key (it sets the prototype).
  if (key === '__proto__') throw new UserError('__proto__ is reserved; choose another key name');
  if (o.vault !== undefined && !isVaultId(o.vault)) throw new UserError(`unknown vault '${o.vault}'; use one of ${VAULTS.join(', ')}`);
  // A registry that fails to parse stops us before anything is stored.
  const existing = loadRegistry(env).keys[key];
  // Rotating a key keeps it where it is; only --vault (or keyrack mv) moves it.
  if (o.vault === undefined && existing && !isValueVault(existing.vault) && o.ref === undefined && o.profile === undefined) {
    throw new UserError(`${key} is a ${existing.vault} key, which keeps a reference, not a value: give ${existing.vault === 'aws.sso' ? '--profile' : '--ref'} to change where it points, or --vault os.secure to store a value instead`);
  }
  const vaultId = (o.vault ?? existing?.vault ?? 'os.secure') as VaultId;
  const entry = entryFor(key, vaultId, o);
  // Before asking for the value: a downgrade needs the flag (checked again under the lock).
  if (existing && isDowngrade(existing.vault, vaultId) && o.downgrade !== true) throw new DowngradeRefused([[key, existing.vault]], vaultId);

  let previous: RegistryEntry | undefined;
  if (isValueVault(vaultId)) {
    if (vaultId === 'os.secure') {
      // Before asking for the value, so nobody types a secret for nothing.
      (await import('../vaults/secure.js')).checkReady(env);
    }
    const value = await readSecret(`Value for ${key} (hidden): `, `the value for ${key}`);
    previous = (await storeValues(vaultId, new Map([[key, value]]), env, { overwrite: true, downgrade: o.downgrade === true })).get(key);
  } else {
    const vault = await vaultFor(vaultId);
    const why = vault.validate?.(entry);
    if (why) throw new UserError(`${key}: ${why}`);
    previous = storeReference(key, entry, env);
  }
  // A key moved from another vault had its old copy removed once the new one was stored.
  // The daemon may hold the old value (or the old reference's value): never serve it again.
  const wasHeld = await dropHeld(key, env);
  bumpGeneration(env);
  const where = entry.ref ? ` (${entry.ref})` : entry.profile ? ` (profile ${entry.profile})` : '';
  say(`stored ${key} in ${vaultId}${where}${previous && previous.vault !== vaultId ? ` (moved from ${previous.vault})` : ''}`);
  if (previous && isDowngrade(previous.vault, vaultId)) say(downgradeWarning([key], previous.vault, env));
  if (wasHeld) say(`the daemon held the old value of ${key}; locked it — keyrack unlock ${key} to load the new one`);
}
