/**
 * The bench's world, isolated like a test sandbox (own HOME and XDG dirs): an
 * os.secure identity, 5 os.secure keys unlocked in a daemon, 5 os.direct keys, 50
 * more os.secure keys for the unlock bench, three projects (keyrack os.secure,
 * keyrack os.direct, and direnv with an equivalent .envrc), the hooks each tool
 * prints, and a `keyrack` on PATH linked the way install.sh links it.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEYRACK, ROOT, sandbox } from '../test/helpers.ts';
import { DaemonConnection } from '../src/daemon/client.ts';
import { SHELLS, type Project, type ShellName } from './scripts.ts';

export const PASSPHRASE = 'bench passphrase';

export interface Fixture {
  dir: string;
  /** The sandbox environment: its daemon holds S1..S5. */
  env: NodeJS.ProcessEnv;
  /** Same HOME and config, another runtime dir: no daemon there. */
  envNoDaemon: NodeJS.ProcessEnv;
  secure: Project;
  direct: Project;
  direnv: Project;
  /** A directory with no .keyrack or .envrc anywhere above it. */
  outside: string;
  scriptsDir: string;
  hooks: { keyrack: Record<ShellName, string>; keyrackNoDaemon: Record<ShellName, string>; direnv: Record<ShellName, string> };
  /** A bash "hook" that always runs the Node CLI's `keyrack export bash`, for the concurrency check. */
  nodeExportHook: string;
  unlockKeys: string[];
  daemonPid: number;
  cleanup(): void;
}

/** A fake token, fixed per name, ~40 characters like a real one. */
const value = (name: string) => `${name.toLowerCase()}_${createHash('sha256').update(name).digest('hex').slice(0, 36)}`;

function must(cmd: string, args: string[], o: { env: NodeJS.ProcessEnv; input?: string; cwd?: string }): string {
  const r = spawnSync(cmd, args, { env: o.env, input: o.input ?? '', cwd: o.cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`bench setup: ${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}`);
  return r.stdout;
}

/** What the shells under test inherit: the sandbox plus this machine's Node CA setting. */
function shellEnv(base: NodeJS.ProcessEnv, bin: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, PATH: `${bin}:${base.PATH ?? ''}`, LC_ALL: 'C.UTF-8', DIRENV_LOG_FORMAT: '' };
  if (process.env.NODE_EXTRA_CA_CERTS) env.NODE_EXTRA_CA_CERTS = process.env.NODE_EXTRA_CA_CERTS;
  return env;
}

export async function createFixture(): Promise<Fixture> {
  const sb = sandbox();
  const dirs = ['bin', 'hooks', 'scripts', 'run-nodaemon', 'p/secure', 'p/direct', 'p/direnv', 'p/outside'];
  for (const d of dirs) mkdirSync(join(sb.dir, d), { recursive: true, mode: 0o700 });
  const bin = join(sb.dir, 'bin');
  // As install.sh does: a launcher for keyrack-fast when it was built, else a link.
  const fast = join(ROOT, 'native', 'build', 'Release', 'keyrack-fast');
  const sq = (p: string) => `'${p.replace(/'/g, `'\\''`)}'`;
  if (existsSync(fast)) writeFileSync(join(bin, 'keyrack'), `#!/bin/sh\nexec ${sq(fast)} ${sq(process.execPath)} ${sq(KEYRACK)} "$@"\n`, { mode: 0o755 });
  else symlinkSync(KEYRACK, join(bin, 'keyrack'));
  const env = shellEnv(sb.env, bin);
  const envNoDaemon = { ...env, XDG_RUNTIME_DIR: join(sb.dir, 'run-nodaemon') };
  const kr = (args: string[], o: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
    must(process.execPath, [KEYRACK, ...args], { env: o.env ?? env, input: o.input, cwd: o.cwd });
  const cleanup = () => {
    spawnSync(process.execPath, [KEYRACK, 'daemon', 'stop'], { env: envNoDaemon, stdio: 'ignore', timeout: 5000 });
    sb.cleanup();
  };

  try {
    const names = (prefix: string, n: number, from = 1) => Array.from({ length: n }, (_, i) => `${prefix}${i + from}`);
    const project = (dir: string, keys: string[]): Project => ({ dir: join(sb.dir, 'p', dir), vars: keys.map((k) => [k, value(k)]) });
    const secure = project('secure', names('S', 5));
    const direct = project('direct', names('D', 5));
    const direnv = project('direnv', names('S', 5));
    const unlockKeys = names('U', 50);

    kr(['init'], { input: `${PASSPHRASE}\n` });
    const dotenv = (keys: string[]) => keys.map((k) => `${k}=${value(k)}\n`).join('');
    const imp = join(sb.dir, 'import.env');
    writeFileSync(imp, dotenv([...secure.vars.map(([k]) => k), ...unlockKeys]), { mode: 0o600 });
    kr(['import', imp, '--vault', 'os.secure']);
    writeFileSync(imp, dotenv(direct.vars.map(([k]) => k)), { mode: 0o600 });
    kr(['import', imp, '--vault', 'os.direct']);

    for (const p of [secure, direct]) {
      writeFileSync(join(p.dir, '.keyrack'), `# bench project\n${p.vars.map(([k]) => k).join('\n')}\n`);
      kr(['allow', p.dir]);
    }
    writeFileSync(join(direnv.dir, '.envrc'), direnv.vars.map(([k, v]) => `export ${k}=${v}\n`).join(''));
    must('direnv', ['allow', direnv.dir], { env });

    kr(['unlock', ...secure.vars.map(([k]) => k)], { input: `${PASSPHRASE}\n` });
    const conn = await DaemonConnection.open(env);
    if (!conn) throw new Error('bench setup: the daemon is not running after unlock');
    const daemonPid = conn.hello.pid;
    conn.close();

    const hooks = { keyrack: {}, keyrackNoDaemon: {}, direnv: {} } as Fixture['hooks'];
    for (const sh of SHELLS) {
      const save = (tool: keyof Fixture['hooks'], text: string) => {
        const f = join(sb.dir, 'hooks', `${tool}.${sh}`);
        writeFileSync(f, text);
        hooks[tool][sh] = f;
      };
      // Through PATH, as a user's rc file runs it.
      save('keyrack', must('keyrack', ['hook', sh], { env }));
      save('keyrackNoDaemon', must('keyrack', ['hook', sh], { env: envNoDaemon }));
      save('direnv', must('direnv', ['hook', sh], { env }));
    }
    const nodeExportHook = join(sb.dir, 'hooks', 'node-export.bash');
    writeFileSync(nodeExportHook, `PROMPT_COMMAND='eval "$(keyrack export bash)"'\n`);
    return {
      dir: sb.dir, nodeExportHook, env, envNoDaemon, secure, direct, direnv, outside: join(sb.dir, 'p', 'outside'),
      scriptsDir: join(sb.dir, 'scripts'), hooks, unlockKeys, daemonPid, cleanup,
    };
  } catch (e) {
    cleanup();
    throw e;
  }
}
