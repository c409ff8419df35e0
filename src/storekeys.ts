/**
 * Storing values in the local vaults (os.secure, os.direct) and naming them in the
 * registry — shared by `set` (one key) and `import` (many). Everything after the
 * encryption happens under the registry lock, in this order: vault files first,
 * registry last. A crash (even SIGKILL) at any point therefore leaves every key the
 * registry names with a readable value; at worst a value nobody names yet.
 */
import { UserError } from './errors.js';
import { loadRegistry, saveRegistry, withRegistryLock, type RegistryEntry } from './registry.js';
import type { Env } from './paths.js';

export const VALUE_VAULTS = ['os.secure', 'os.direct'] as const;
export type ValueVault = (typeof VALUE_VAULTS)[number];

export function isValueVault(v: string): v is ValueVault {
  return (VALUE_VAULTS as readonly string[]).includes(v);
}

/** Thrown (exit 2) when keys exist and overwriting was not asked for; nothing was stored. */
export class KeysExist extends UserError {
  constructor(readonly names: string[]) {
    super(`${names.length === 1 ? 'key' : 'keys'} already in the registry: ${names.join(' ')}`);
  }
}

/**
 * Stores `values` in `vaultId` and records them in the registry. Returns the
 * previous registry entry of every key that existed (the caller removes copies left
 * in another vault and drops held values). Without `overwrite`, any existing key
 * refuses the whole call with KeysExist — checked under the lock, so a concurrent
 * `set` cannot slip in between the check and the write.
 */
export async function storeValues(
  vaultId: ValueVault,
  values: ReadonlyMap<string, string>,
  env: Env,
  opts: { overwrite: boolean },
): Promise<Map<string, RegistryEntry>> {
  // Encrypt first, outside the lock: it is async (X25519, fast) and needs no passphrase.
  let write: () => void;
  if (vaultId === 'os.secure') {
    const { seal, writeSealed } = await import('./vaults/secure.js');
    const sealed = new Map<string, Uint8Array>();
    for (const [name, value] of values) sealed.set(name, await seal(value, env));
    write = () => {
      for (const [name, data] of sealed) writeSealed(name, data, env);
    };
  } else {
    const { putDirect } = await import('./vaults/direct.js');
    write = () => putDirect(values, env);
  }

  return withRegistryLock(env, () => {
    const reg = loadRegistry(env);
    const previous = new Map<string, RegistryEntry>();
    for (const name of values.keys()) {
      if (Object.hasOwn(reg.keys, name)) previous.set(name, reg.keys[name]!);
    }
    if (!opts.overwrite && previous.size > 0) throw new KeysExist([...previous.keys()]);
    write();
    for (const name of values.keys()) reg.keys[name] = { vault: vaultId };
    saveRegistry(env, reg);
    return previous;
  });
}
