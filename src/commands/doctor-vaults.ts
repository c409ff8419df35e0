/**
 * `keyrack doctor`'s checks for the vaults that live in other tools (pass,
 * keyring, hashicorp, cmd), each run only when the registry has keys in that
 * vault: a user without pass must not be told to install it.
 */
import type { Finding } from './doctor-finding.js';
import type { Registry, RegistryEntry, VaultId } from '../registry.js';
import { findOnPath, runTool } from '../vaults/tool.js';


const PROBE_MS = 5000;

async function pass(env: NodeJS.ProcessEnv): Promise<Finding[]> {
  const { PASS_NOT_INSTALLED, storeDir } = await import('../vaults/pass.js');
  const { gpgPath } = await import('../vaults/pass-gpg.js');
  const f: Finding[] = [];
  const p = findOnPath('pass', env);
  f.push(p ? { level: 'ok', what: `pass: ${p}` } : { level: 'FAIL', what: 'pass not on PATH but pass keys are registered', fix: PASS_NOT_INSTALLED.replace(/^pass is not installed — /, '') });
  const g = gpgPath(env);
  f.push(g ? { level: 'ok', what: `gpg: ${g}` } : { level: 'FAIL', what: 'gpg not on PATH (pass decrypts with it)', fix: 'apt-get install gnupg' });
  const { existsSync } = await import('node:fs');
  const dir = storeDir(env);
  if (!existsSync(dir)) f.push({ level: 'FAIL', what: `no password store at ${dir}`, fix: 'pass init GPG-ID, or set PASSWORD_STORE_DIR' });
  return f;
}

async function keyring(env: NodeJS.ProcessEnv): Promise<Finding[]> {
  const { SECRET_TOOL_NOT_INSTALLED, secretTool, unreachable } = await import('../vaults/secret-tool.js');
  const t = secretTool(env);
  if (!t) return [{ level: 'FAIL', what: 'secret-tool not on PATH but keyring keys are registered', fix: SECRET_TOOL_NOT_INSTALLED.replace(/^secret-tool is not installed — /, '') }];
  // A lookup nothing matches: says whether a Secret Service answers at all.
  const r = await runTool(t, ['lookup', 'keyrack-doctor', 'probe'], { env, timeoutMs: PROBE_MS });
  const far = unreachable(r);
  if (far) return [{ level: 'FAIL', what: `keyring: ${far}` }];
  if (r.timedOut) return [{ level: 'warn', what: `keyring: the Secret Service did not answer within ${PROBE_MS / 1000}s` }];
  return [{ level: 'ok', what: `keyring: ${t}; a Secret Service answers on the session bus` }];
}

async function hashicorp(env: NodeJS.ProcessEnv): Promise<Finding[]> {
  const { connFromEnv, VaultClient } = await import('../vaults/vault-http.js');
  const conn = connFromEnv(env);
  if (conn instanceof Error) return [{ level: 'FAIL', what: conn.message, fix: 'set VAULT_ADDR and VAULT_TOKEN (or run vault login)' }];
  const where = `Vault at ${conn.addr}${conn.namespace ? `, namespace ${conn.namespace}` : ''}`;
  let client;
  try {
    client = new VaultClient(conn, PROBE_MS, env.VAULT_SKIP_VERIFY !== undefined);
  } catch (e) {
    return [{ level: 'FAIL', what: `hashicorp: cannot read a TLS file named by VAULT_CACERT, VAULT_CAPATH or VAULT_CLIENT_*: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }];
  }
  try {
    // sys/health: unauthenticated; 200 active, 429 standby, 503 sealed, 501 not initialised.
    const r = await client.request('GET', 'sys/health');
    if (r.status === 200 || r.status === 429 || r.status === 473) return [{ level: 'ok', what: `hashicorp: ${where} answers (unsealed)` }];
    if (r.status === 503) return [{ level: 'FAIL', what: `hashicorp: ${where} is sealed`, fix: 'its operators must unseal it' }];
    return [{ level: 'FAIL', what: `hashicorp: ${where} answered ${r.status} to sys/health` }];
  } catch (e) {
    return [{ level: 'FAIL', what: (e as Error).message }];
  } finally {
    client.close();
  }
}

async function cmd(entries: Array<[string, RegistryEntry]>, env: NodeJS.ProcessEnv): Promise<Finding[]> {
  const { registryWritableByOthers, resolveProgram, shownArgv } = await import('../vaults/cmd.js');
  const f: Finding[] = [];
  const unsafe = registryWritableByOthers(env);
  if (unsafe) f.push({ level: 'FAIL', what: `cmd: unlock refuses to run commands from the registry: ${unsafe}` });
  for (const [name, e] of entries) {
    const prog = e.argv?.[0];
    if (prog === undefined) continue;
    const p = resolveProgram(prog, env);
    f.push(p ? { level: 'ok', what: `cmd key ${name}: ${p}` } : { level: 'FAIL', what: `cmd key ${name}: ${prog} not found (${shownArgv(e.argv!)})`, fix: `install ${prog}, or keyrack set ${name} --vault cmd -- PROG [ARG…]` });
  }
  return f;
}

/** Findings for each of these vaults the registry uses, in a fixed order. */
export async function vaultFindings(reg: Registry | null, env: NodeJS.ProcessEnv): Promise<Finding[]> {
  if (!reg) return [];
  const entries = Object.entries(reg.keys);
  const used = new Set<VaultId>(entries.map(([, e]) => e.vault));
  const f: Finding[] = [];
  if (used.has('pass')) f.push(...await pass(env));
  if (used.has('keyring')) f.push(...await keyring(env));
  if (used.has('hashicorp')) f.push(...await hashicorp(env));
  if (used.has('cmd')) f.push(...await cmd(entries.filter(([, e]) => e.vault === 'cmd'), env));
  return f;
}
