/**
 * The daemon's environment: a whitelist, so a daemon started from a shell that
 * already holds exported secrets does not carry them (nor hand them to the vault
 * CLIs it runs for refresh).
 */
import { INSECURE_ENV } from './peer.js';

/**
 * `KEYRACK_USER_DAEMON=1 keyrack daemon run` (the systemd user unit sets it): a
 * daemon without an audit session that serves every login session of its user.
 * Deliberately not in the whitelist: a daemon started on demand never becomes one.
 */
export const USER_DAEMON_ENV = 'KEYRACK_USER_DAEMON';

const KEEP = new Set([
  'HOME', 'USER', 'LOGNAME', 'PATH', 'LANG', 'TZ',
  'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'KEYRACK_REFRESH_WINDOW', INSECURE_ENV,
  // Not secrets, but background refreshes need them behind a proxy or a private CA.
  'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy', 'AWS_CA_BUNDLE',
  'KEYRACK_AWS_TIMEOUT', 'KEYRACK_OP_TIMEOUT', 'KEYRACK_SSO_LOGIN_TIMEOUT', 'KEYRACK_HASHICORP_TIMEOUT',
]);

function kept(name: string): boolean {
  return KEEP.has(name) || name.startsWith('LC_') || name.startsWith('XDG_');
}

export function daemonEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && kept(k)) out[k] = v;
  return out;
}

/** Prunes this process's own environment to the whitelist (a `daemon run` from a shell). */
export function scrubOwnEnv(): void {
  for (const k of Object.keys(process.env)) if (!kept(k)) delete process.env[k];
}
