/**
 * How the daemon re-fetches a refreshable key (aws.sso) before it expires: through
 * the key's vault, never prompting and never opening a browser login (nobody is
 * there to answer); a refresh that cannot run fails, and the value expires as
 * scheduled.
 */
import { sizeProblem } from '../limits.js';
import { isVaultId } from '../registry.js';
import type { Fetched, Secret, Source } from '../secret.js';
import type { Log } from './log.js';

/** True when the daemon may re-fetch values from this source. */
export function canRefresh(source: Source): boolean {
  return isVaultId(source.vault);
}

/**
 * Fetches `name` again from `source` (`current`: the value held now, which a vault
 * that renews, such as a Vault lease, keeps); throws when the vault cannot give it
 * without a person.
 */
export async function refreshFrom(name: string, source: Source, current: Secret, log: Log): Promise<Fetched> {
  if (!isVaultId(source.vault)) throw new Error(`unknown vault ${source.vault}`);
  const { vaultFor } = await import('../vaults/index.js');
  const vault = await vaultFor(source.vault);
  if (!vault.refreshable) throw new Error(`${source.vault} values are not refreshable`);
  const ctx = {
    env: process.env,
    interactive: false,
    passphrase: () => Promise.reject(new Error('no passphrase prompt inside the daemon')),
    progress: (m: string) => log.line(`refresh ${name}: ${m}`),
  };
  let got: Fetched | Error | undefined;
  if (vault.refresh) {
    got = await vault.refresh(name, source, ctx, current);
  } else {
    const entry = source.profile === undefined ? { vault: source.vault } : { vault: source.vault, profile: source.profile };
    got = (await vault.fetch([{ name, entry }], ctx)).get(name);
  }
  if (got === undefined) throw new Error('the vault returned nothing');
  if (got instanceof Error) throw got;
  // The same bound as at unlock: a refreshed value must not grow past it.
  const tooLarge = sizeProblem('value' in got ? got.value : got.env);
  if (tooLarge) throw new Error(tooLarge);
  return got;
}
