/**
 * `keyrack doctor`: checks the setup and says how to fix each problem. Exit 2
 * when something must be fixed; warnings (e.g. uid-only mode in a container)
 * are reported but do not fail. It checks what this user's setup needs (the
 * identity and vault files of the keys they have: doctor-setup.ts; the CLIs of the
 * vaults they use) and says nothing of tools for vaults they do not use.
 */
import type { Finding } from './doctor-finding.js';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { messageOf } from '../errors.js';
import { buildHint, nativeLoadError } from '../native.js';
import { isPrivateMode, runtimeDir, sessionId, socketPath, uid } from '../paths.js';
import { loadRegistry, type Registry, type VaultId } from '../registry.js';
import { DaemonConnection } from '../daemon/client.js';
import { AWS_INSTALL_URL, V2_FALLBACKS, awsCliVersion, resolveV2 } from '../vaults/aws-cli.js';
import { USER_DAEMON_ENV } from '../daemon/env.js';
import { INSECURE_ENV, insecureAllowed } from '../daemon/peer.js';
import { findOnPath } from '../vaults/tool.js';
import { vaultFindings } from './doctor-vaults.js';
import { forHumans } from '../printable.js';
import { setupFindings } from './doctor-setup.js';


export const PTRACE_SCOPE = '/proc/sys/kernel/yama/ptrace_scope';
const RAISE_PTRACE_SCOPE = 'sudo sysctl kernel.yama.ptrace_scope=1; to keep it across boots: ' +
  'echo kernel.yama.ptrace_scope=1 | sudo tee /etc/sysctl.d/10-ptrace.conf';

/**
 * What Yama's ptrace_scope (the file's content; null: no Yama) leaves open: values
 * keyrack handed to your shells and commands sit in their memory and environment,
 * where your uid's other processes, in any login session, can read them. Yama
 * restricts ptrace attach and /proc/<pid>/mem, never /proc/<pid>/environ.
 */
export function ptraceFinding(scope: string | null): Finding {
  const environ = 'their /proc/<pid>/environ is readable by your uid whatever ptrace_scope says';
  if (scope === null) {
    return {
      level: 'warn',
      what: `ptrace: Yama not available (no ${PTRACE_SCOPE}): any process of your uid, in any login session, can ptrace your shells and commands and read the values keyrack gave them; ${environ}`,
      fix: 'a kernel built with Yama (CONFIG_SECURITY_YAMA), then kernel.yama.ptrace_scope=1 in /etc/sysctl.d/',
    };
  }
  const n = Number(scope.trim());
  if (!Number.isInteger(n) || n < 0) return { level: 'warn', what: `ptrace: ${PTRACE_SCOPE} says ${JSON.stringify(scope.trim())}, not a number`, fix: RAISE_PTRACE_SCOPE };
  if (n === 0) {
    return {
      level: 'warn',
      what: `ptrace: Yama ptrace_scope 0: any process of your uid, in any login session, can ptrace your shells and commands and read the values keyrack gave them; ${environ}`,
      fix: RAISE_PTRACE_SCOPE,
    };
  }
  const who = n === 1 ? 'only a process\'s ancestors (a debugger that started it) may ptrace it' : n === 2 ? 'only root may ptrace' : 'nobody may ptrace';
  return { level: 'ok', what: `ptrace: Yama ptrace_scope ${n}: ${who}; ${environ}` };
}

function readPtraceScope(): string | null {
  try {
    return readFileSync(PTRACE_SCOPE, 'utf8');
  } catch {
    return null;
  }
}

function versionOf(path: string, env: NodeJS.ProcessEnv): string {
  try {
    const out = execFileSync(path, ['--version'], { env, encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
    return out.trim().split('\n')[0] ?? '';
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return `${err.stdout ?? ''}${err.stderr ?? ''}`.trim().split('\n')[0] ?? '';
  }
}

function modeOf(mode: number): string {
  return (mode & 0o777).toString(8).padStart(3, '0');
}

/** What the daemon serving this shell says about itself; closes the connection. */
async function reportDaemon(f: Finding[], conn: DaemonConnection, sid: number | null): Promise<void> {
  try {
    const st = (await conn.request({ op: 'status' })).status;
    if (st.shared) {
      f.push({
        level: 'warn',
        what: `the user-wide daemon (pid ${st.pid} on ${conn.path}, ${USER_DAEMON_ENV}=1) serves this shell${sid === null ? '' : ` in session ${sid}`}: ` +
          `it checks only your uid (${st.check}), so any process of yours, in any login session, may read unlocked keys`,
        fix: 'expected with the systemd user unit (docs/systemd.md); for per-session isolation: systemctl --user disable --now keyrack',
      });
    } else {
      f.push({ level: 'ok', what: `daemon pid ${st.pid} on ${conn.path}; check: ${st.check}` });
      if (st.mode === 'uid-only' && sid !== null) {
        f.push({ level: 'warn', what: 'the daemon runs uid-only although this shell has a session id', fix: 'keyrack daemon stop; the next unlock starts one bound to this session' });
      }
    }
    if (st.dumpable === false) f.push({ level: 'ok', what: 'daemon is non-dumpable (no ptrace, no /proc/<pid>/mem for your other processes)' });
    else f.push({ level: 'FAIL', what: 'daemon is dumpable: processes of your uid can read its memory', fix: `build the native module (${buildHint()}), then keyrack daemon stop` });
  } finally {
    conn.close();
  }
}

async function checks(env: NodeJS.ProcessEnv): Promise<Finding[]> {
  const f: Finding[] = [];
  const me = uid();

  const nativeErr = nativeLoadError();
  if (nativeErr) {
    f.push({
      level: 'FAIL', what: `native peer-credential module: ${nativeErr}`,
      fix: `${buildHint()}${insecureAllowed(env) ? '' : `; or accept file-permission-only protection with ${INSECURE_ENV}=1`}`,
    });
  } else {
    f.push({ level: 'ok', what: 'native peer-credential module loads (SO_PEERCRED, pidfd, non-dumpable)' });
  }

  let dir: string | undefined;
  try {
    dir = runtimeDir(env, false);
    const st = lstatSync(dir);
    if (!st.isDirectory()) f.push({ level: 'FAIL', what: `runtime dir ${dir} is not a directory`, fix: `remove it, or set XDG_RUNTIME_DIR to a directory of yours with mode 700` });
    else if (st.uid !== me) f.push({ level: 'FAIL', what: `runtime dir ${dir} belongs to uid ${st.uid}, not you (uid ${me})`, fix: 'set XDG_RUNTIME_DIR to a directory of yours with mode 700' });
    else if (!isPrivateMode(st.mode)) f.push({ level: 'FAIL', what: `runtime dir ${dir} has mode ${modeOf(st.mode)}`, fix: `chmod 700 ${dir}` });
    else f.push({ level: 'ok', what: `runtime dir ${dir}: yours, ${modeOf(st.mode)}` });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      f.push({ level: 'FAIL', what: `runtime dir: ${messageOf(e)}`, fix: 'set XDG_RUNTIME_DIR to a directory of yours with mode 700' });
    } else if (!env.XDG_RUNTIME_DIR?.startsWith('/')) {
      f.push({ level: 'ok', what: `runtime dir ${dir} does not exist yet (created 0700 on first unlock)` });
    } else if (existsSync(dirname(dir!))) {
      f.push({ level: 'warn', what: `XDG_RUNTIME_DIR is ${dir}, which does not exist: your login session may have ended; keyrack creates it 0700 at the next unlock`, fix: 'log in again, or unset XDG_RUNTIME_DIR' });
    } else {
      f.push({
        level: 'FAIL', what: `XDG_RUNTIME_DIR is ${dir}, but neither it nor the directory above it exists: the daemon cannot start`,
        fix: `unset XDG_RUNTIME_DIR (keyrack then uses /run/user/${me} or /tmp/runtime-${me}), or mkdir -m 700 ${dir}`,
      });
    }
  }

  const sid = sessionId();
  if (sid === null) {
    f.push({
      level: 'warn',
      what: 'session: no audit session id (uid-only): the daemon checks only your uid, so any process of yours, in any login, may read unlocked keys',
      fix: 'normal in containers; on a desktop or ssh login enable pam_loginuid (session required pam_loginuid.so)',
    });
  } else {
    f.push({ level: 'ok', what: `session: audit session ${sid}; the daemon serves only this login session` });
  }
  f.push(ptraceFinding(readPtraceScope()));

  let sock: string | undefined;
  try {
    sock = socketPath(env, false);
    const st = lstatSync(sock);
    if (!st.isSocket()) f.push({ level: 'FAIL', what: `${sock} is not a socket`, fix: `remove it: rm ${sock}` });
    else if (st.uid !== me) f.push({ level: 'FAIL', what: `socket ${sock} belongs to uid ${st.uid}: someone else may have planted it`, fix: `remove it: rm ${sock}` });
    else if ((st.mode & 0o077) !== 0) f.push({ level: 'FAIL', what: `socket ${sock} has mode ${modeOf(st.mode)}`, fix: 'keyrack daemon stop; the next start creates it 0600' });
    else {
      const conn = await DaemonConnection.open(env);
      if (conn) await reportDaemon(f, conn, sid);
      else f.push({ level: 'ok', what: `socket ${sock} is stale (no daemon); the next start replaces it` });
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      // No daemon for this session: a user-wide one (systemd --user) may serve it.
      const conn = sid === null ? null : await DaemonConnection.open(env).catch(() => null);
      if (conn) await reportDaemon(f, conn, sid);
      else f.push({ level: 'ok', what: 'daemon not running (keyrack unlock starts it)' });
    } else {
      f.push({ level: 'FAIL', what: `daemon socket${sock ? ` ${sock}` : ''}: ${messageOf(e)}`, fix: sock ? `remove it if it is not yours: rm ${sock}` : undefined });
    }
  }

  let used = new Set<VaultId>();
  let reg: Registry | null = null;
  try {
    reg = loadRegistry(env);
    used = new Set(Object.values(reg.keys).map((e) => e.vault));
  } catch (e) {
    f.push({ level: 'FAIL', what: `registry: ${messageOf(e)}` });
  }
  f.push(...await setupFindings(reg, env));
  // Tools: optional ones only when present, a vault's CLI only when a key uses that vault.
  const age = findOnPath('age', env);
  if (age) f.push({ level: 'ok', what: `age: ${age} (${versionOf(age, env)}); opens os.secure files and backups by hand` });
  if (used.has('1password')) {
    const op = findOnPath('op', env);
    if (op) f.push({ level: 'ok', what: `op: ${op} (${versionOf(op, env)})` });
    else f.push({ level: 'FAIL', what: 'op (1Password CLI) not on PATH, but 1password keys are registered', fix: 'install the 1Password CLI: https://developer.1password.com/docs/cli/get-started/' });
  }
  // The AWS CLI only for a user with keys in an AWS vault.
  const awsVaults = (['aws.sso', 'aws.secrets', 'aws.ssm'] as const).filter((v) => used.has(v));
  const awsNeeded = awsVaults.length > 0;
  const aws = awsNeeded ? await awsCliVersion(env) : undefined;
  if (!awsNeeded) {
    // no AWS key: the AWS CLI is not this user's concern
  } else if (!aws) {
    f.push({ level: 'FAIL', what: `aws (AWS CLI v2) not on PATH but ${awsVaults.join(' and ')} keys are registered`, fix: `install the AWS CLI v2: ${AWS_INSTALL_URL}` });
  } else if (aws.major !== null && aws.major >= 2) {
    f.push({ level: 'ok', what: `aws: ${aws.path} (aws-cli/${aws.version})` });
  } else {
    // aws.sso uses a v2 from a standard location when an older aws shadows it on PATH.
    const what = aws.version ? `v${aws.version}` : 'of unknown version';
    const v2 = await resolveV2(aws.path, env);
    if (!(v2 instanceof Error)) {
      f.push({ level: 'ok', what: `aws: ${aws.path} (${what}) is first on PATH; aws.sso uses the v2 at ${v2.path}` });
    } else {
      f.push({
        level: awsNeeded ? 'FAIL' : 'warn',
        what: `aws at ${aws.path} is ${what} and no v2 was found at ${V2_FALLBACKS.join(' or ')}; aws.sso needs v2 (aws configure export-credentials)`,
        fix: `install the AWS CLI v2 (${AWS_INSTALL_URL}) and put it first on PATH`,
      });
    }
  }

  f.push(...await vaultFindings(reg, env));

  const shell = basename(env.SHELL ?? 'bash');
  const hookLine = shell === 'fish' ? 'keyrack hook fish | source   (in ~/.config/fish/config.fish)' : `eval "$(keyrack hook ${shell === 'zsh' ? 'zsh' : 'bash'})"   (in ~/.${shell === 'zsh' ? 'zsh' : 'bash'}rc)`;
  if (env.KEYRACK_STATE !== undefined) f.push({ level: 'ok', what: 'shell hook installed in this shell' });
  else f.push({ level: 'FAIL', what: 'shell hook not installed in this shell (keys will not follow cd)', fix: `add ${hookLine}, then open a new shell` });
  return f;
}

export async function run(): Promise<number | void> {
  const found = await checks(process.env);
  const out: string[] = [];
  for (const x of found) {
    out.push(`${x.level.padEnd(4)}  ${forHumans(x.what)}`);
    if (x.fix && x.level !== 'ok') out.push(`      fix: ${forHumans(x.fix)}`);
  }
  process.stdout.write(out.join('\n') + '\n');
  const bad = found.filter((x) => x.level === 'FAIL').length;
  if (bad > 0) {
    process.stderr.write(`keyrack: ${bad} problem${bad === 1 ? '' : 's'} found\n`);
    return 2;
  }
  return 0;
}
