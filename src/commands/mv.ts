/**
 * `keyrack mv KEY --vault V [--downgrade]`: move a key to another vault of values
 * (os.secure, os.direct) in one command, its value and all. The value comes from the
 * daemon when it holds it (no passphrase), else from the key's vault as unlock would
 * fetch it (os.secure asks the passphrase once). It is stored in V and the old copy
 * removed under one registry lock (storekeys.ts); a move into plaintext needs
 * --downgrade and says where the value now lies.
 */
import { UserError, messageOf } from '../errors.js';
import { bumpGeneration } from '../generation.js';
import { dropHeld } from '../held.js';
import { readPassphrase } from '../input.js';
import { assertKeyName } from '../env/names.js';
import { words } from '../env/readiness.js';
import { isVaultId, loadRegistry, VAULTS, type RegistryEntry, type VaultId } from '../registry.js';
import { say } from '../say.js';
import { DowngradeRefused, downgradeWarning, isDowngrade, isValueVault, storeValues, VALUE_VAULTS } from '../storekeys.js';
import { closest } from '../suggest.js';

/** The key's value: the daemon's copy when it holds one, else fetched from its vault (a person may be asked). */
async function valueOf(key: string, entry: RegistryEntry, env: NodeJS.ProcessEnv): Promise<string> {
  const { getKeys } = await import('../daemon/client.js');
  const held = (await getKeys([key], env).catch(() => null))?.[key];
  if (held) {
    if ('value' in held) return held.value;
    throw severalVariables(key);
  }
  const { vaultFor } = await import('../vaults/index.js');
  const vault = await vaultFor(entry.vault);
  const got = (await vault.fetch([{ name: key, entry }], {
    env,
    interactive: true,
    progress: (m) => say(m),
    passphrase: () => readPassphrase('os.secure passphrase: ', { confirm: false }),
  })).get(key);
  if (got === undefined) throw new UserError(`${key}: ${entry.vault} returned nothing; nothing moved`);
  if (got instanceof Error) throw new UserError(`${key}: ${messageOf(got)} — nothing moved`);
  if (!('value' in got)) throw severalVariables(key);
  return got.value;
}

const severalVariables = (key: string) =>
  new UserError(`${key} is several variables (AWS_ACCESS_KEY_ID, …) from a profile, not one value: it cannot move to a vault of values`);

export async function run(key: string, o: { vault?: string; downgrade?: boolean }): Promise<number | void> {
  const env = process.env;
  assertKeyName(key);
  if (o.vault === undefined) throw new UserError(`mv needs --vault V: where to move ${key} (${VALUE_VAULTS.join(' or ')})`);
  if (!isVaultId(o.vault)) throw new UserError(`unknown vault '${o.vault}'; use one of ${VAULTS.join(', ')}`);
  const to: VaultId = o.vault;
  if (!isValueVault(to)) {
    throw new UserError(`${to} keeps a reference, not a value: point ${key} at one with keyrack set ${key} --vault ${to} ${to === 'aws.sso' ? '--profile P' : '--ref …'}`);
  }
  const reg = loadRegistry(env);
  const entry = reg.keys[key];
  if (!entry) {
    const near = closest(key, Object.keys(reg.keys));
    throw new UserError(words.absent([key], 'sentence', near === undefined ? undefined : new Map([[key, near]])));
  }
  if (entry.vault === to) throw new UserError(`${key} is in ${to} already; nothing moved`);
  // Before any passphrase is asked (and again under the lock).
  if (isDowngrade(entry.vault, to) && o.downgrade !== true) throw new DowngradeRefused([[key, entry.vault]], to);
  if (to === 'os.secure') (await import('../vaults/secure.js')).checkReady(env);

  const value = await valueOf(key, entry, env);
  const previous = (await storeValues(to, new Map([[key, value]]), env, { overwrite: true, downgrade: o.downgrade === true })).get(key);
  const wasHeld = await dropHeld(key, env);
  bumpGeneration(env);
  const from = previous?.vault ?? entry.vault;
  // The daemon's copy goes, as after any change of a key's vault: unlock loads it from where it is now.
  say(`moved ${key} from ${from} to ${to}${wasHeld && to !== 'os.direct' ? `; it was unlocked: keyrack unlock ${key} loads it again` : ''}`);
  if (isDowngrade(from, to)) say(downgradeWarning([key], from, env));
}
