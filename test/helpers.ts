/**
 * Shared test fixtures: an isolated keyrack installation (its own HOME and XDG
 * dirs, so nothing touches the real user's files) and a way to run the built CLI.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const KEYRACK = join(ROOT, 'dist', 'keyrack.mjs');

if (!existsSync(KEYRACK)) throw new Error(`${KEYRACK} is missing: run npm run build first`);

export interface Sandbox {
  dir: string;
  home: string;
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

/** A fresh HOME and XDG tree under /tmp (short paths keep sockets under 107 bytes). */
export function sandbox(extraEnv: NodeJS.ProcessEnv = {}): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'kr-'));
  const home = join(dir, 'home');
  const run = join(dir, 'run');
  mkdirSync(home, { mode: 0o700 });
  mkdirSync(run, { mode: 0o700 });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
    XDG_RUNTIME_DIR: run,
    ...extraEnv,
  };
  return {
    dir, home, env,
    cleanup() {
      // Stop a daemon this sandbox may have started, then remove its files.
      spawnSync(process.execPath, [KEYRACK, 'daemon', 'stop'], { env, stdio: 'ignore', timeout: 5000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built keyrack with stdin fed from `input` (not a TTY). */
export function keyrack(args: string[], opts: { env: NodeJS.ProcessEnv; input?: string | Buffer; cwd?: string }): Promise<Result> {
  return run(process.execPath, [KEYRACK, ...args], opts);
}

/** `uid`: run as that user (and group of the same number); root only. */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string | Buffer; cwd?: string; uid?: number }): Promise<Result> {
  return new Promise((resolve, reject) => {
    const as = opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.uid };
    const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'], ...as });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? 128 + (signal ? 9 : 0), stdout, stderr }));
    child.stdin.on('error', () => { /* the program may exit before reading it all */ });
    child.stdin.end(opts.input ?? '');
  });
}

/** `path` as keyrack's messages print it: under `home`, as `~/…`. */
export function tilde(path: string, home: string): string {
  return path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
}

export { needsRoot, requireTool } from './tools.ts';
