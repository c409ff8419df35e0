/**
 * Talking to HashiCorp Vault / OpenBao over HTTP with Node's own client (no CLI
 * needed). The connection is read as the official CLI reads it: VAULT_ADDR
 * (default https://127.0.0.1:8200), VAULT_TOKEN else ~/.vault-token,
 * VAULT_NAMESPACE, VAULT_CACERT / VAULT_CAPATH, VAULT_CLIENT_CERT / _KEY,
 * VAULT_TLS_SERVER_NAME (OpenBao's BAO_* names too). The token only ever goes in
 * the X-Vault-Token header; plain http is refused except to this machine.
 */
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { isRecord } from '../fsutil.js';
import type { Env } from '../paths.js';
import { seconds } from './tool.js';

/** Where and as whom to reach Vault: the CLI's settings, read once per unlock. */
export interface VaultConn {
  addr: string;
  token: string;
  namespace?: string;
  cacert?: string;
  capath?: string;
  clientCert?: string;
  clientKey?: string;
  serverName?: string;
}

const MAX_BODY = 4 * 1024 * 1024;
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** VAULT_X, else OpenBao's BAO_X. */
const setting = (env: Env, name: string): string | undefined => {
  const v = env[`VAULT_${name}`] ?? env[`BAO_${name}`];
  return v === undefined || v === '' ? undefined : v;
};

/** Why an address is unusable (or unsafe for a token), or null. */
export function addrProblem(addr: string): string | null {
  let u: URL;
  try {
    u = new URL(addr);
  } catch {
    return `VAULT_ADDR ${JSON.stringify(addr)} is not a URL (e.g. https://vault.example.com:8200)`;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return `VAULT_ADDR ${JSON.stringify(addr)} must be an https:// URL`;
  if (u.protocol === 'http:' && !LOOPBACK.has(u.hostname)) {
    return `VAULT_ADDR ${addr} is plain http to another host, so the token would cross the network unencrypted; use https (keyrack allows http only to 127.0.0.1, ::1 and localhost)`;
  }
  return null;
}

/** The connection from the environment, or what is missing. */
export function connFromEnv(env: Env): VaultConn | UserError {
  const addr = (setting(env, 'ADDR') ?? 'https://127.0.0.1:8200').replace(/\/+$/, '');
  const bad = addrProblem(addr);
  if (bad) return new UserError(`hashicorp: ${bad}`);
  let token = setting(env, 'TOKEN');
  if (token === undefined) {
    const home = env.HOME && env.HOME.startsWith('/') ? env.HOME : homedir();
    try {
      token = readFileSync(join(home, '.vault-token'), 'utf8').trim();
    } catch {
      token = undefined;
    }
  }
  if (!token) return new UserError('hashicorp: no Vault token: set VAULT_TOKEN, or run vault login (it writes ~/.vault-token)');
   
  if (/[\u0000-\u001f\u007f\s]/.test(token)) return new UserError('hashicorp: the Vault token contains whitespace or a control character; run vault login again');
  const c: VaultConn = { addr, token };
  const opt = (k: Exclude<keyof VaultConn, 'addr' | 'token'>, name: string) => {
    const v = setting(env, name);
    if (v !== undefined) c[k] = v;
  };
  opt('namespace', 'NAMESPACE');
  opt('cacert', 'CACERT');
  opt('capath', 'CAPATH');
  opt('clientCert', 'CLIENT_CERT');
  opt('clientKey', 'CLIENT_KEY');
  opt('serverName', 'TLS_SERVER_NAME');
  return c;
}

const CONN_KEYS = ['addr', 'token', 'namespace', 'cacert', 'capath', 'clientCert', 'clientKey', 'serverName'] as const;

/** The connection as Source.state entries (the daemon keeps them in memory for renewals). */
export function connState(c: VaultConn): Record<string, string> {
  const s: Record<string, string> = {};
  for (const k of CONN_KEYS) if (c[k] !== undefined) s[k] = c[k]!;
  return s;
}

/** The connection back from Source.state, or null when it is incomplete or unsafe. */
export function connOfState(s: Record<string, string>): VaultConn | null {
  if (!s.addr || !s.token || addrProblem(s.addr)) return null;
  const c: VaultConn = { addr: s.addr, token: s.token };
  for (const k of CONN_KEYS) if (k !== 'addr' && k !== 'token' && s[k] !== undefined) c[k] = s[k];
  return c;
}

/** Any HTTP answer: status and parsed JSON body (null when not JSON). */
export interface Reply {
  status: number;
  body: unknown;
}

/** A failure to get any HTTP answer: unreachable, TLS, timeout. */
export class NoAnswer extends UserError {}

function tlsOptions(c: VaultConn): https.AgentOptions {
  const o: https.AgentOptions = {};
  if (c.cacert) o.ca = readFileSync(c.cacert);
  else if (c.capath) o.ca = readdirSync(c.capath).filter((f) => /\.(pem|crt)$/.test(f)).map((f) => readFileSync(join(c.capath!, f)));
  if (c.clientCert) o.cert = readFileSync(c.clientCert);
  if (c.clientKey) o.key = readFileSync(c.clientKey);
  if (c.serverName) o.servername = c.serverName;
  return o;
}

/** One client per unlock (kept-alive connections for its requests); close() when done. */
export class VaultClient {
  private readonly agent: http.Agent;
  private readonly tls: boolean;

  constructor(readonly conn: VaultConn, private readonly timeoutMs: number, private readonly skipVerifySet = false) {
    this.tls = conn.addr.startsWith('https:');
    this.agent = this.tls ? new https.Agent({ keepAlive: true, maxSockets: 8, ...tlsOptions(conn) }) : new http.Agent({ keepAlive: true, maxSockets: 8 });
  }

  close(): void {
    this.agent.destroy();
  }

  /** `METHOD /v1/PATH` (path already URL-encoded); resolves with any HTTP answer. */
  request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Reply> {
    const url = new URL(`${this.conn.addr}/v1/${path}`);
    const headers: Record<string, string> = { 'X-Vault-Token': this.conn.token, 'X-Vault-Request': 'true', Accept: 'application/json' };
    if (this.conn.namespace) headers['X-Vault-Namespace'] = this.conn.namespace;
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    if (payload) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const lib = this.tls ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(url, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        let len = 0;
        res.on('data', (d: Buffer) => {
          len += d.length;
          if (len > MAX_BODY) req.destroy(new Error('answer too large'));
          else chunks.push(d);
        });
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = null;
          try {
            parsed = text === '' ? null : JSON.parse(text);
          } catch {
            parsed = null;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', (e) => reject(this.noAnswer(e)));
      });
      const timer = setTimeout(() => req.destroy(Object.assign(new Error('timeout'), { code: 'KEYRACK_TIMEOUT' })), this.timeoutMs);
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(this.noAnswer(e));
      });
      req.end(payload);
    });
  }

  private noAnswer(e: Error & { code?: string }): NoAnswer {
    const at = `Vault at ${this.conn.addr}`;
    if (e.code === 'KEYRACK_TIMEOUT') return new NoAnswer(`hashicorp: no answer from ${at} within ${seconds(this.timeoutMs)}; is it reachable (VPN)?`);
    if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH' || e.code === 'EAI_AGAIN') {
      return new NoAnswer(`hashicorp: cannot reach ${at} (${e.code}); set VAULT_ADDR to your Vault's address`);
    }
    if (e.code && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(e.code)) {
      return new NoAnswer(`hashicorp: TLS to ${at} failed (${e.code}); set VAULT_CACERT to the CA that signed its certificate${this.skipVerifySet ? ' (keyrack does not honour VAULT_SKIP_VERIFY)' : ''}`);
    }
    return new NoAnswer(`hashicorp: request to ${at} failed: ${e.code ?? e.message}`);
  }
}

/** Vault's own words from an error answer ({"errors": [...]}), short and without control characters. */
export function errorsOf(body: unknown): string {
  if (!isRecord(body) || !Array.isArray(body.errors)) return '';
   
  const s = body.errors.filter((e): e is string => typeof e === 'string').join('; ').replace(/[\u0000-\u001f\u007f]/g, ' ');
  return s.length > 300 ? s.slice(0, 300) + '…' : s;
}

/** Each segment of a Vault path URL-encoded ('/' kept). */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
