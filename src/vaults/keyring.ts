/**
 * The keyring vault: the desktop's Secret Service (GNOME Keyring, KeePassXC,
 * KWallet), through `secret-tool`. The registry keeps the item's attributes
 * (`--ref attr=value[,attr=value]`); `set` with a value stores it *into* the
 * keyring under them, so the keyring can be a desktop user's everyday vault.
 * Unlock looks each item up: the first alone (it may bring up the keyring's
 * unlock dialog), then the rest a few at a time.
 */
import { UserError } from '../errors.js';
import type { Env } from '../paths.js';
import type { RegistryEntry } from '../registry.js';
import { KeyringUnreachable, SECRET_TOOL_NOT_INSTALLED, clear, lookup, parseAttrs, secretTool, store, type Attrs } from './secret-tool.js';
import { pool, timeoutFrom } from './tool.js';
import type { Fetched, Vault } from './vault.js';

const DEFAULT_TIMEOUT_S = 60;
const PARALLEL = 4;

const timeout = (env: Env) => timeoutFrom(env, 'KEYRACK_KEYRING_TIMEOUT', DEFAULT_TIMEOUT_S);

/** Where `set K --vault keyring` stores a value when no --ref names the attributes. */
export function defaultRef(key: string): string {
  return `service=keyrack,key=${key}`;
}

function tool(env: Env): string {
  const t = secretTool(env);
  if (!t) throw new UserError(`keyring: ${SECRET_TOOL_NOT_INSTALLED}`);
  return t;
}

function attrsOf(ref: string | undefined): Attrs {
  const a = parseAttrs(ref);
  if (typeof a === 'string') throw new UserError(a);
  return a;
}

/** Stores `value` in the keyring under the reference's attributes (replacing an item with the same ones). */
export async function storeInKeyring(key: string, ref: string, value: string, env: Env): Promise<void> {
  await store(tool(env), `keyrack: ${key}`, attrsOf(ref), value, env, timeout(env));
}

/** Deletes the item keyrack stored for a key (`rm`); items the user made are never touched. */
export async function clearFromKeyring(ref: string, env: Env): Promise<void> {
  await clear(tool(env), attrsOf(ref), env, timeout(env));
}

export const vault: Vault = {
  id: 'keyring',

  validate(entry: RegistryEntry): string | null {
    const a = parseAttrs(entry.ref);
    return typeof a === 'string' ? a : null;
  },

  async fetch(keys, ctx) {
    const out = new Map<string, Fetched | Error>();
    const ok: Array<{ name: string; attrs: Attrs }> = [];
    for (const { name, entry } of keys) {
      const a = parseAttrs(entry.ref);
      if (typeof a === 'string') out.set(name, new UserError(`keyring: ${a}; fix it with keyrack set ${name} --vault keyring --ref attr=value`));
      else ok.push({ name, attrs: a });
    }
    if (ok.length === 0) return out;
    const t = secretTool(ctx.env);
    if (!t) {
      for (const k of ok) out.set(k.name, new UserError(`keyring: ${SECRET_TOOL_NOT_INSTALLED}`));
      return out;
    }
    const ms = timeout(ctx.env);
    const one = async (k: { name: string; attrs: Attrs }) => {
      const r = await lookup(t, k.attrs, ctx.env, ms, k.name);
      out.set(k.name, r instanceof Error ? r : { value: r.value });
      return r;
    };
    const first = await one(ok[0]!);
    // No bus or no Secret Service: the same for every key, without asking again.
    if (first instanceof KeyringUnreachable) {
      for (const k of ok.slice(1)) out.set(k.name, first);
      return out;
    }
    await pool(ok.slice(1), PARALLEL, one);
    return out;
  },
};
