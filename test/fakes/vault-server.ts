/**
 * A stand-in HashiCorp Vault / OpenBao server on 127.0.0.1 (no real server can
 * be installed here). It implements exactly the documented HTTP API calls the
 * hashicorp vault makes, and holds every request to them:
 *
 * - Overview (https://developer.hashicorp.com/vault/api-docs): routes under /v1/;
 *   the client token in the X-Vault-Token header (never in the URL); the
 *   X-Vault-Request: true header the official clients send
 *   (…/api-docs#the-x-vault-request-header); errors as {"errors": [...]} with
 *   403 for a bad token, 404 for nothing there, 503 while sealed.
 * - Namespaces: the X-Vault-Namespace header (…/docs/enterprise/namespaces).
 * - GET /v1/sys/internal/ui/mounts/:path — "Get single mount details", the CLI's
 *   preflight (…/api-docs/system/internal-ui-mounts): the mount that hosts :path,
 *   {type, options: {version}, path}; arrives under "data" as the CLI's
 *   api.ParseSecret reads it (command/kv_helpers.go: secret.Data["path"]).
 * - GET /v1/:mount/data/:path — KV v2 "Read secret version"
 *   (…/api-docs/secret/kv/kv-v2#read-secret-version): {data: {data, metadata}};
 *   a deleted latest version is a 404 that still carries its metadata.
 * - GET /v1/:mount/:path — KV v1 "Read secret" (…/api-docs/secret/kv/kv-v1):
 *   {data, lease_duration (a refresh hint), lease_id: ""}.
 * - GET /v1/database/creds/:name — "Generate credentials"
 *   (…/api-docs/secret/databases#generate-credentials): new {username, password}
 *   on every read, with {lease_id, lease_duration, renewable}.
 * - POST /v1/sys/leases/renew {lease_id, increment} — "Renew lease"
 *   (…/api-docs/system/leases#renew-lease): {lease_id, renewable, lease_duration},
 *   never past the lease's max TTL; a lease that is gone or not renewable is a 400.
 * - GET /v1/sys/health (…/api-docs/system/health): 200 unsealed, 503 sealed.
 *
 * Anything else (another path or method, a token in the URL, a missing
 * X-Vault-Request, a namespace header other than the configured one) is recorded
 * as a violation, which a test expects none of, and refused.
 */
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface KvSecret { data: Record<string, unknown>; deleted?: boolean }

export interface VaultFixture {
  token: string;
  namespace?: string;
  /** mount path (with its trailing '/') → engine */
  mounts: Record<string, { type: 'kv' | 'database'; version?: '1' | '2' }>;
  /** full logical path (mount included, no data/) → secret */
  kv: Record<string, KvSecret>;
  /** database roles: ROLE → lease terms in seconds */
  roles?: Record<string, { ttl: number; maxTtl: number; renewable: boolean }>;
  tls?: { key: string; cert: string };
}

interface LeaseState { expiresAt: number; maxAt: number; renewable: boolean; ttl: number }

export interface Request { method: string; path: string }

export class VaultServer {
  readonly requests: Request[] = [];
  readonly violations: string[] = [];
  /** lease_id → state: every credential the stand-in handed out. */
  readonly leases = new Map<string, LeaseState>();
  sealed = false;
  /** Paths (without /v1/) whose requests are never answered. */
  readonly hang = new Set<string>();
  /** Added to every answer: a network round trip, for bench/vaults-unlock.ts. */
  delayMs = 0;
  /** Awaited before answering a request for `path` (a test's rendezvous with another vault). */
  beforeAnswer?: (path: string) => Promise<void>;
  private server: Server;
  private creds = 0;
  private hung: ServerResponse[] = [];

  private constructor(readonly fx: VaultFixture) {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => setTimeout(() => {
        const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/v1\//, ''));
        void (this.beforeAnswer?.(path) ?? Promise.resolve()).then(() => this.handle(req, Buffer.concat(chunks).toString('utf8'), res));
      }, this.delayMs));
    };
    this.server = fx.tls ? createHttps({ key: fx.tls.key, cert: fx.tls.cert }, handler) : createHttp(handler);
  }

  static async start(fx: VaultFixture): Promise<VaultServer> {
    const s = new VaultServer(fx);
    await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', () => r()));
    return s;
  }

  get addr(): string {
    return `${this.fx.tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The username and password handed out under `leaseId`. */
  credsOf(leaseId: string): { username: string; password: string } {
    const n = leaseId.split('/').pop()!;
    return { username: `v-${n}`, password: `pw-${n}-secret` };
  }

  async close(): Promise<void> {
    for (const r of this.hung) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private refuse(res: ServerResponse, why: string): void {
    this.violations.push(why);
    this.send(res, 400, { errors: [why] });
  }

  private mountOf(path: string): [string, VaultFixture['mounts'][string]] | null {
    const hits = Object.entries(this.fx.mounts).filter(([p]) => path.startsWith(p) || `${path}/` === p);
    return hits.sort((a, b) => b[0].length - a[0].length)[0] ?? null;
  }

  private renew(body: string, res: ServerResponse): void {
    let p: { lease_id?: unknown; increment?: unknown };
    try {
      p = JSON.parse(body) as typeof p;
    } catch {
      return this.refuse(res, 'the renew body is not JSON');
    }
    if (typeof p.lease_id !== 'string' || Object.keys(p).some((k) => k !== 'lease_id' && k !== 'increment')) return this.refuse(res, 'renew takes {lease_id, increment}');
    const l = this.leases.get(p.lease_id);
    const now = Date.now();
    if (!l || l.expiresAt <= now) return this.send(res, 400, { errors: ['lease not found or lease is not renewable'] });
    if (!l.renewable) return this.send(res, 400, { errors: ['lease is not renewable'] });
    const inc = typeof p.increment === 'number' && p.increment > 0 ? p.increment : l.ttl;
    l.expiresAt = Math.min(now + inc * 1000, l.maxAt);
    this.send(res, 200, { lease_id: p.lease_id, renewable: true, lease_duration: Math.max(0, Math.floor((l.expiresAt - now) / 1000)), data: null, warnings: null });
  }

  private read(path: string, res: ServerResponse): void {
    const m = this.mountOf(path);
    if (!m) return this.send(res, 404, { errors: [] });
    const [mp, e] = m;
    const rest = path.slice(mp.length);
    if (e.type === 'database') {
      const role = rest.startsWith('creds/') ? this.fx.roles?.[rest.slice('creds/'.length)] : undefined;
      if (!role) return this.send(res, 404, { errors: [] });
      const id = `${path}/lease${++this.creds}`;
      const now = Date.now();
      this.leases.set(id, { expiresAt: now + role.ttl * 1000, maxAt: now + role.maxTtl * 1000, renewable: role.renewable, ttl: role.ttl });
      return this.send(res, 200, { request_id: `r${this.creds}`, lease_id: id, lease_duration: role.ttl, renewable: role.renewable, data: this.credsOf(id), warnings: null });
    }
    if (e.version === '2') {
      if (!rest.startsWith('data/')) return this.refuse(res, `GET ${path}: a KV v2 read is ${mp}data/PATH`);
      const s = this.fx.kv[mp + rest.slice('data/'.length)];
      if (!s) return this.send(res, 404, { errors: [] });
      const metadata = { created_time: '2018-03-22T02:24:06.945319214Z', custom_metadata: null, deletion_time: s.deleted ? '2018-03-22T02:36:43.986212308Z' : '', destroyed: false, version: 2 };
      if (s.deleted) return this.send(res, 404, { data: { data: null, metadata } });
      return this.send(res, 200, { request_id: 'r', lease_id: '', lease_duration: 0, renewable: false, data: { data: s.data, metadata } });
    }
    const s = this.fx.kv[path];
    if (!s) return this.send(res, 404, { errors: [] });
    this.send(res, 200, { request_id: 'r', lease_id: '', lease_duration: 2764800, renewable: false, data: s.data });
  }

  private handle(req: IncomingMessage, body: string, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!url.pathname.startsWith('/v1/')) return this.refuse(res, `${req.method} ${url.pathname}: not under /v1/`);
    const path = decodeURIComponent(url.pathname.slice('/v1/'.length));
    this.requests.push({ method: req.method ?? '', path });
    if (url.search !== '') return this.refuse(res, `${path}: keyrack sends no query (and never the token in the URL)`);
    if (req.headers['x-vault-request'] !== 'true') return this.refuse(res, `${path}: no X-Vault-Request: true header`);
    const ns = req.headers['x-vault-namespace'];
    if (this.fx.namespace !== ns) return this.refuse(res, `${path}: X-Vault-Namespace ${String(ns)}, expected ${String(this.fx.namespace)}`);
    if (this.hang.has(path)) {
      this.hung.push(res);
      return;
    }
    if (path === 'sys/health' && req.method === 'GET') {
      return this.send(res, this.sealed ? 503 : 200, { initialized: true, sealed: this.sealed, standby: false, version: '1.15.0' });
    }
    if (this.sealed) return this.send(res, 503, { errors: ['Vault is sealed'] });
    if (req.headers['x-vault-token'] !== this.fx.token) return this.send(res, 403, { errors: ['permission denied'] });
    if (path.startsWith('sys/internal/ui/mounts/') && req.method === 'GET') {
      const m = this.mountOf(path.slice('sys/internal/ui/mounts/'.length));
      if (!m) return this.send(res, 403, { errors: ['permission denied'] });
      const [mp, e] = m;
      return this.send(res, 200, { data: { path: mp, type: e.type, options: e.version ? { version: e.version } : null, description: '', accessor: `${e.type}_1234` } });
    }
    if (path === 'sys/leases/renew') {
      if (req.method !== 'POST') return this.refuse(res, `${req.method} sys/leases/renew: the documented method is POST`);
      if (req.headers['content-type'] !== 'application/json') return this.refuse(res, 'renew without a JSON Content-Type');
      return this.renew(body, res);
    }
    if (req.method !== 'GET') return this.refuse(res, `${req.method} ${path}: keyrack only reads`);
    this.read(path, res);
  }
}
