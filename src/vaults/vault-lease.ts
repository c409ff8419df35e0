/**
 * Keeping a leased Vault secret (dynamic credentials) alive in the daemon. The
 * key's Source.state carries the lease and how to reach Vault; before the lease
 * ends the daemon renews it (POST sys/leases/renew), and when it is not
 * renewable, or renewal no longer extends it (its max TTL), reads the path
 * again. Keys that took fields of one read (username and password of one
 * credential) must stay a pair: a re-read is shared by every key whose old lease
 * it replaces, and so is a renewal.
 */
import type { Secret, Source } from '../secret.js';
import { connOfState, connState, errorsOf, type VaultConn, VaultClient } from './vault-http.js';
import { fieldOf, readSecret, type Lease, type Read, type VaultRef } from './vault-read.js';
import type { Fetched } from './vault.js';

/** The Source a leased key is put with. */
export function leaseSource(conn: VaultConn, ref: VaultRef, lease: Lease): Source {
  const state: Record<string, string> = {
    ...connState(conn), path: ref.path,
    leaseId: lease.id, leaseSeconds: String(lease.seconds), leaseRenewable: lease.renewable ? '1' : '0', leaseExpiresAt: String(lease.expiresAt),
  };
  if (ref.field !== undefined) state.field = ref.field;
  return { vault: 'hashicorp', state };
}

/** Shared work, keyed by what it replaces; dropped once its result has expired. */
const shared = new Map<string, { p: Promise<unknown>; until: number }>();

function once<T>(key: string, run: () => Promise<T>, until: (t: T) => number): Promise<T> {
  const now = Date.now();
  for (const [k, v] of shared) if (v.until <= now) shared.delete(k);
  const hit = shared.get(key);
  if (hit) return hit.p as Promise<T>;
  const p = run();
  // Until it settles, and then for as long as what it got is valid.
  shared.set(key, { p, until: Number.MAX_SAFE_INTEGER });
  p.then((t) => { const e = shared.get(key); if (e?.p === p) e.until = until(t); }, () => shared.delete(key));
  return p;
}

/** Renews the lease; the new expiry, or null when Vault would not renew it. */
async function renew(client: VaultClient, leaseId: string, seconds: number): Promise<number | null> {
  const sentAt = Date.now();
  const r = await client.request('POST', 'sys/leases/renew', { lease_id: leaseId, increment: seconds });
  if (r.status !== 200) {
    if (errorsOf(r.body) === '' && r.status >= 500) throw new Error(`Vault answered ${r.status} to a lease renewal`);
    return null;
  }
  const b = r.body as { lease_duration?: unknown } | null;
  const d = b && typeof b.lease_duration === 'number' ? b.lease_duration : 0;
  return d > 0 ? sentAt + d * 1000 : null;
}

/** The daemon's refresh of one hashicorp key. Throws when neither renewal nor a re-read works. */
export async function refreshLease(source: Source, current: Secret, timeoutMs: number): Promise<Fetched> {
  const s = source.state;
  const conn = s && connOfState(s);
  if (!s || !conn || !s.path || !s.leaseId) throw new Error('no Vault lease to refresh');
  const ref: VaultRef = s.field === undefined ? { path: s.path } : { path: s.path, field: s.field };
  const prev = Number(s.leaseExpiresAt);
  const client = new VaultClient(conn, timeoutMs);
  try {
    if (s.leaseRenewable === '1') {
      const at = await once(`renew|${conn.addr}|${s.leaseId}|${prev}`, () => renew(client, s.leaseId!, Number(s.leaseSeconds)), (t) => t ?? 0);
      // At its max TTL a renewal no longer extends the lease: read a new one instead.
      if (at !== null && at > prev + 1000) {
        return { ...current, expiresAt: at, source: { ...source, state: { ...s, leaseExpiresAt: String(at) } } };
      }
    }
    const read = await once(`read|${conn.addr}|${conn.namespace ?? ''}|${s.path}|${s.leaseId}`,
      async (): Promise<Read | Error> => readSecret(client, s.path!, [], `hashicorp (${s.path})`),
      (r) => (r instanceof Error ? 0 : r.lease?.expiresAt ?? Date.now() + 60_000));
    if (read instanceof Error) throw read;
    const v = fieldOf(read, ref);
    if ('problem' in v) throw new Error(`hashicorp (${s.path}): ${v.problem}`);
    if (!read.lease) return { value: v.value };
    return { value: v.value, expiresAt: read.lease.expiresAt, source: leaseSource(conn, ref, read.lease) };
  } finally {
    client.close();
  }
}
