/**
 * The hashicorp vault: HashiCorp Vault and OpenBao, KV (v1 and v2) and dynamic
 * secrets, over HTTP with Node's own client. The registry keeps `--ref
 * mount/path#field`; the address, token, namespace and CA come from the
 * environment as the official CLI reads them. Keys naming fields of one path
 * share one read (a dynamic credential's username and password must come from
 * the same lease); paths are read a few at a time on kept-alive connections. A
 * lease bounds the key's life, and the daemon renews or re-reads it in time.
 */
import { UserError } from '../errors.js';
import type { RegistryEntry } from '../registry.js';
import { pool, timeoutFrom } from './tool.js';
import { connFromEnv, VaultClient } from './vault-http.js';
import { leaseSource, refreshLease } from './vault-lease.js';
import { fieldOf, parseVaultRef, readSecret, type VaultRef } from './vault-read.js';
import type { Fetched, Vault } from './vault.js';

const DEFAULT_TIMEOUT_S = 30;
const PARALLEL = 8;
/** Seconds a Vault request may take (default 30). */
export const HASHICORP_TIMEOUT_ENV = 'KEYRACK_HASHICORP_TIMEOUT';

export const vault: Vault = {
  id: 'hashicorp',
  refreshable: true,

  validate(entry: RegistryEntry): string | null {
    const r = parseVaultRef(entry.ref);
    return typeof r === 'string' ? r : null;
  },

  // Nothing of ours to delete: the secret lives in Vault.
  async fetch(keys, ctx) {
    const out = new Map<string, Fetched | Error>();
    const byPath = new Map<string, Array<{ name: string; ref: VaultRef }>>();
    for (const { name, entry } of keys) {
      const ref = parseVaultRef(entry.ref);
      if (typeof ref === 'string') {
        out.set(name, new UserError(`hashicorp: ${ref}; fix it with keyrack set ${name} --vault hashicorp --ref mount/path#field`));
        continue;
      }
      byPath.set(ref.path, [...(byPath.get(ref.path) ?? []), { name, ref }]);
    }
    if (byPath.size === 0) return out;
    const conn = connFromEnv(ctx.env);
    let client: VaultClient | undefined;
    try {
      if (conn instanceof Error) throw conn;
      try {
        client = new VaultClient(conn, timeoutFrom(ctx.env, HASHICORP_TIMEOUT_ENV, DEFAULT_TIMEOUT_S), ctx.env.VAULT_SKIP_VERIFY !== undefined);
      } catch (e) {
        throw new UserError(`hashicorp: cannot read a TLS file named by VAULT_CACERT, VAULT_CAPATH or VAULT_CLIENT_*: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    } catch (e) {
      for (const list of byPath.values()) for (const k of list) out.set(k.name, e as Error);
      return out;
    }
    const c = client;
    const known: Parameters<typeof readSecret>[2] = [];
    try {
      await pool([...byPath], PARALLEL, async ([path, list]) => {
        const who = `hashicorp (${path})`;
        const read = await readSecret(c, path, known, who).catch((e: unknown) => e as Error);
        for (const { name, ref } of list) {
          if (read instanceof Error) { out.set(name, read); continue; }
          const v = fieldOf(read, ref);
          if ('problem' in v) { out.set(name, new UserError(`${who}: ${v.problem}`)); continue; }
          out.set(name, read.lease ? { value: v.value, expiresAt: read.lease.expiresAt, source: leaseSource(c.conn, ref, read.lease) } : { value: v.value });
        }
      });
    } finally {
      c.close();
    }
    return out;
  },

  async refresh(_name, source, ctx, current) {
    return refreshLease(source, current, timeoutFrom(ctx.env, HASHICORP_TIMEOUT_ENV, DEFAULT_TIMEOUT_S));
  },
};
