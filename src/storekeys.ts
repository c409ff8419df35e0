/**
 * Storing keys and naming them in the registry — shared by `set` (one key) and
 * `import` (many). Everything after the encryption happens under the registry lock,
 * in this order: new vault files, registry, then the copy a moved key left in its
 * old vault. A crash (even SIGKILL) at any point therefore leaves every key the
 * registry names with a readable value; at worst a value nobody names. Removing the
 * old copy under the lock matters too: done after it, a concurrent `set` moving the
 * key back could have its fresh value deleted (found by test/crash-safety.test.ts).
 */
import { unlinkSync } from 'node:fs';
import { UserError } from './errors.js';
import { oversized } from './limits.js';
import { files, type Env } from './paths.js';
import { loadRegistry, saveRegistry, withRegistryLock, type RegistryEntry, type VaultId } from './registry.js';
import { putDirect, removeDirect } from './vaults/direct.js';

export const VALUE_VAULTS = ['os.secure', 'os.direct'] as const;
export type ValueVault = (typeof VALUE_VAULTS)[number];

export function isValueVault(v: string): v is ValueVault {
  return (VALUE_VAULTS as readonly string[]).includes(v);
}

/** Vaults that keep a value as plaintext on disk: moving a key into one is a downgrade. */
export const PLAINTEXT_VAULTS: readonly VaultId[] = ['os.direct'];

/** Moving a key from `from` to `to` puts a value that was kept encrypted (or elsewhere) in plaintext on disk. */
export function isDowngrade(from: VaultId, to: VaultId): boolean {
  return PLAINTEXT_VAULTS.includes(to) && !PLAINTEXT_VAULTS.includes(from);
}

/** Thrown (exit 2) when keys would move into a plaintext vault without --downgrade; nothing was stored. */
export class DowngradeRefused extends UserError {
  constructor(readonly moves: ReadonlyArray<[name: string, from: VaultId]>, to: VaultId) {
    const names = moves.map(([n, f]) => `${n} (${f})`).join(', ');
    super(`${moves.length === 1 ? 'this key is' : 'these keys are'} kept encrypted now, and ${to} keeps values in plaintext on disk: ${names} — ` +
      `nothing changed; add --downgrade to move ${moves.length === 1 ? 'it' : 'them'} anyway`);
  }
}

/** What is said after a downgrade that was asked for: where the value now lies in the clear. */
export function downgradeWarning(names: readonly string[], from: VaultId, env: Env): string {
  return `warning: ${names.join(' ')} ${names.length === 1 ? 'was' : 'were'} in ${from} and ${names.length === 1 ? 'is' : 'are'} now plaintext in ${files.directVault(env)} ` +
    '(mode 0600): anyone who can read your files, or a copy of them, can read it';
}

/** The downgrades among `previous` entries moving to `to`, refused unless allowed. */
function checkDowngrades(previous: ReadonlyMap<string, RegistryEntry>, to: VaultId, allowed: boolean): void {
  if (allowed) return;
  const moves = [...previous].filter(([, e]) => isDowngrade(e.vault, to)).map(([n, e]): [string, VaultId] => [n, e.vault]);
  if (moves.length > 0) throw new DowngradeRefused(moves, to);
}

/** Thrown (exit 2) when keys exist and overwriting was not asked for; nothing was stored. */
export class KeysExist extends UserError {
  constructor(readonly names: string[]) {
    super(`${names.length === 1 ? 'key' : 'keys'} already in the registry: ${names.join(' ')}`);
  }
}

/**
 * Stores `values` in `vaultId` and records them in the registry. Returns the
 * previous registry entry of every key that existed (copies left in another vault
 * are removed here; the caller drops values the daemon held). Without `overwrite`, any existing key
 * refuses the whole call with KeysExist, and without `downgrade` any key kept
 * encrypted that would land in a plaintext vault refuses it with DowngradeRefused —
 * checked under the lock, so a concurrent `set` cannot slip in between check and write.
 */
export async function storeValues(
  vaultId: ValueVault,
  values: ReadonlyMap<string, string>,
  env: Env,
  /** execOnly: mark the keys exec-only (a key marked before keeps its mark: storing never loosens it). downgrade: a move into plaintext was asked for. */
  opts: { overwrite: boolean; execOnly?: boolean; downgrade?: boolean },
): Promise<Map<string, RegistryEntry>> {
  // Before anything is written: all or nothing.
  const tooLarge = oversized(values, values.size === 1 ? 'nothing stored' : 'nothing stored (all or nothing)');
  if (tooLarge) throw tooLarge;
  // Encrypt first, outside the lock: it is async (X25519, fast) and needs no passphrase.
  let write: () => void;
  if (vaultId === 'os.secure') {
    const { seal, writeSealed } = await import('./vaults/secure.js');
    const sealed = await seal(values, env);
    write = () => {
      for (const [name, data] of sealed) writeSealed(name, data, env);
    };
  } else {
    write = () => putDirect(values, env);
  }

  return withRegistryLock(env, () => {
    const reg = loadRegistry(env);
    const previous = new Map<string, RegistryEntry>();
    for (const name of values.keys()) {
      const old = reg.keys[name];
      if (old) previous.set(name, old);
    }
    if (!opts.overwrite && previous.size > 0) throw new KeysExist([...previous.keys()]);
    // Checked under the lock: a concurrent move into os.secure cannot be undone silently.
    checkDowngrades(previous, vaultId, opts.downgrade === true);
    write();
    for (const name of values.keys()) {
      reg.keys[name] = opts.execOnly || previous.get(name)?.execOnly ? { vault: vaultId, execOnly: true } : { vault: vaultId };
    }
    saveRegistry(env, reg);
    for (const [name, old] of previous) if (old.vault !== vaultId) removeLocalValue(name, old.vault, env);
    return previous;
  });
}

/** Records a reference-only key (1password, aws.sso); returns its previous entry. */
export function storeReference(name: string, entry: RegistryEntry, env: Env): RegistryEntry | undefined {
  return withRegistryLock(env, () => {
    const reg = loadRegistry(env);
    const previous = reg.keys[name];
    // A new reference keeps the key's exec-only mark: storing never loosens it.
    reg.keys[name] = previous?.execOnly ? { ...entry, execOnly: true } : entry;
    saveRegistry(env, reg);
    if (previous && previous.vault !== entry.vault) removeLocalValue(name, previous.vault, env);
    return previous;
  });
}

/**
 * Deletes a key's value from its local vault (1password and aws.sso keep none here):
 * for `rm`, and for a key that moved vault. Without loading age's crypto.
 */
export function removeLocalValue(name: string, vault: VaultId, env: Env): void {
  if (vault === 'os.direct') removeDirect(name, env);
  if (vault === 'os.secure') {
    try {
      unlinkSync(files.secureKey(name, env));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}
