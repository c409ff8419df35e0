/**
 * Reading one secret from Vault / OpenBao as `vault read` and `vault kv get` do:
 * the CLI's preflight (GET sys/internal/ui/mounts/PATH) says which mount holds
 * the path and whether it is KV version 2, whose API path gains `data/` after
 * the mount; everything else (KV v1, dynamic engines such as database/creds/ROLE)
 * is read at its own path, and a lease on the answer bounds the key's life.
 */
import { UserError } from '../errors.js';
import { isRecord } from '../fsutil.js';
import { hasControl, shown, valueOf } from './text.js';
import { encodePath, errorsOf, type Reply, type VaultClient } from './vault-http.js';

/** A Vault path (mount included) and the field a key takes from it. */
export interface VaultRef {
  path: string;
  field?: string;
}

/** `mount/path[#field]`, or why it is unusable. */
export function parseVaultRef(ref: string | undefined): VaultRef | string {
  if (ref === undefined || ref === '') return 'a hashicorp key needs --ref mount/path#field (e.g. secret/app#db_password, database/creds/app#password)';
  if (ref.length > 1024) return 'hashicorp reference is longer than 1024 characters';
  if (hasControl(ref)) return `hashicorp reference ${shown(ref)} contains a control character`;
  const hash = ref.lastIndexOf('#');
  const path = hash === -1 ? ref : ref.slice(0, hash);
  const field = hash === -1 ? undefined : ref.slice(hash + 1);
  if (field === '') return `hashicorp reference ${shown(ref)}: name a field after '#'`;
  if (/[?]/.test(path)) return `hashicorp reference ${shown(ref)} contains '?'`;
  const segs = path.split('/');
  if (segs.length < 2 || segs.some((s) => s === '' || s === '.' || s === '..')) {
    return `hashicorp reference ${shown(ref)} must be mount/path (at least two segments, none empty, '.' or '..')`;
  }
  return field === undefined ? { path } : { path, field };
}

/** The lease a dynamic secret came with, which bounds the key's life. */
export interface Lease {
  id: string;
  seconds: number;
  renewable: boolean;
  /** epoch ms, counted from when the request was sent */
  expiresAt: number;
}

/** What one read returned: its fields, and its lease if any. */
export interface Read {
  data: Record<string, unknown>;
  lease?: Lease;
}

interface Mount { path: string; kv2: boolean }

/** The failure of an answer, in the words the user needs. */
export function replyError(who: string, apiPath: string, r: Reply): UserError {
  const said = errorsOf(r.body);
  const words = said ? `: ${said}` : '';
  if (r.status === 403 || r.status === 401) return new UserError(`${who}: permission denied (${r.status}${words}) — the token is expired or may not read ${apiPath}; run vault login, then keyrack unlock again`);
  if (r.status === 404) return new UserError(`${who}: there is no secret at ${apiPath} (404); fix the reference, or write it with vault kv put`);
  if (r.status === 503 && /sealed/i.test(said)) return new UserError(`${who}: Vault is sealed (503); its operators must unseal it`);
  return new UserError(`${who}: Vault answered ${r.status} for ${apiPath}${words}`);
}

/** Which mount holds `path`, from the preflight, with the paths already learnt. */
async function mountOf(client: VaultClient, path: string, known: Mount[], who: string): Promise<Mount | Error> {
  const hit = known.find((m) => path.startsWith(m.path));
  if (hit) return hit;
  const r = await client.request('GET', `sys/internal/ui/mounts/${encodePath(path)}`);
  // 404: a Vault older than the preflight; the CLI then reads the path as given (KV v1).
  if (r.status === 404) return { path: '', kv2: false };
  if (r.status !== 200) return replyError(who, `sys/internal/ui/mounts/${path}`, r);
  const b = r.body;
  // The mount's details arrive under "data" (as the CLI's api.ParseSecret reads them).
  const d = isRecord(b) && isRecord(b.data) ? b.data : b;
  if (!isRecord(d) || typeof d.path !== 'string') return new UserError(`${who}: unexpected answer from Vault's mount preflight`);
  const opts = isRecord(d.options) ? d.options : {};
  const m: Mount = { path: d.path.endsWith('/') ? d.path : `${d.path}/`, kv2: d.type === 'kv' && opts.version === '2' };
  known.push(m);
  return m;
}

/**
 * The API path for a KV v2 secret. The mount path may carry a namespace prefix
 * the reference leaves out (as the CLI's addPrefixToKVPath handles).
 */
function kv2Path(path: string, mount: string): string | null {
  let m = mount;
  while (m !== '') {
    if (path.startsWith(m)) return `${m}data/${path.slice(m.length)}`;
    const cut = m.indexOf('/');
    m = cut === -1 || cut === m.length - 1 ? '' : m.slice(cut + 1);
  }
  return null;
}

/** One read of `path`: its fields, and its lease when it has one. */
export async function readSecret(client: VaultClient, path: string, known: Mount[], who: string): Promise<Read | Error> {
  const mount = await mountOf(client, path, known, who);
  if (mount instanceof Error) return mount;
  const api = mount.kv2 ? kv2Path(path, mount.path) : path;
  if (api === null) return new UserError(`${who}: Vault says the mount is ${mount.path}, which the reference does not start with`);
  if (mount.kv2 && api === `${mount.path}data/`) return new UserError(`${who}: name a secret inside the mount ${mount.path}`);
  const sentAt = Date.now();
  const r = await client.request('GET', encodePath(api));
  if (r.status !== 200) {
    if (r.status === 404 && mount.kv2) {
      const meta = isRecord(r.body) && isRecord(r.body.data) && isRecord(r.body.data.metadata) ? r.body.data.metadata : undefined;
      if (meta && (meta.destroyed === true || (typeof meta.deletion_time === 'string' && meta.deletion_time !== ''))) {
        return new UserError(`${who}: the latest version of ${path} was deleted (version ${String(meta.version)}); undelete it or write a new one`);
      }
    }
    return replyError(who, api, r);
  }
  const b = r.body;
  if (!isRecord(b)) return new UserError(`${who}: unexpected answer from Vault for ${api}`);
  const data = mount.kv2 ? (isRecord(b.data) ? b.data.data : undefined) : b.data;
  if (!isRecord(data)) return new UserError(`${who}: the answer for ${api} holds no data`);
  const read: Read = { data };
  if (typeof b.lease_id === 'string' && b.lease_id !== '' && typeof b.lease_duration === 'number' && b.lease_duration > 0) {
    read.lease = { id: b.lease_id, seconds: b.lease_duration, renewable: b.renewable === true, expiresAt: sentAt + b.lease_duration * 1000 };
  }
  return read;
}

/** The value of the reference's field (or of the only field), checked like every value. */
export function fieldOf(read: Read, ref: VaultRef): { value: string } | { problem: string } {
  const names = Object.keys(read.data);
  let name = ref.field;
  if (name === undefined) {
    if (names.length !== 1) return { problem: `${ref.path} has ${names.length} fields (${names.slice(0, 10).join(', ')}); name one with #FIELD` };
    name = names[0]!;
  }
  if (!Object.prototype.hasOwnProperty.call(read.data, name)) return { problem: `${ref.path} has no field ${shown(name)}` };
  const f = read.data[name];
  const s = typeof f === 'string' ? f : f === null ? '' : JSON.stringify(f);
  const v = valueOf(Buffer.from(s, 'utf8'), false);
  return 'refused' in v ? { problem: `field ${shown(name)}: ${v.refused}` } : v;
}
