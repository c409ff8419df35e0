/**
 * `keyrack exec [--key K]... [--] CMD [ARG...]`: runs one command with the keys of
 * the trusted manifest (or the --key list) added to its environment. Needs no hook
 * and changes nothing in the calling shell. The child inherits stdin/stdout/stderr
 * (the TTY passes straight through); its exit status is ours, 128+n for a signal.
 *
 * The keyrack process stays as light as it can while the child runs: it never
 * touches process.stdin/stdout (Node would put a TTY into non-blocking mode under
 * the child's feet) and writes its few messages straight to fd 2.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { constants } from 'node:os';
import { isatty } from 'node:tty';
import { daemonHeld } from '../daemon/source.js';
import { assertReady, words } from '../env/readiness.js';
import { resolveScope, type Scope } from '../env/scope.js';
import { forHumans } from '../printable.js';

const say = (msg: string) => {
  try {
    writeSync(2, `keyrack: ${forHumans(msg)}\n`);
  } catch {
    // stderr closed: nothing to tell
  }
};

/** True when this process has a controlling terminal. */
function hasControllingTty(): boolean {
  try {
    closeSync(openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}

/** On a terminal, locked keys are unlocked on the spot (one passphrase prompt). */
async function unlockOnTty(scope: Scope, env: NodeJS.ProcessEnv, keys: string[]): Promise<Scope> {
  if (scope.locked.length === 0 || !isatty(0) || !isatty(2)) return scope;
  say(words.locked(scope.locked, 'sentence', 'unlocking'));
  const unlock = await import('./unlock.js');
  await unlock.run(scope.locked, { all: false });
  return resolveScope({ env, keys, getHeld: daemonHeld });
}

/**
 * Whether `file` surely cannot run: no such path, or no PATH entry (relative and
 * empty ones too, as execvp reads them) holds a file of that name. Checked before
 * anything is unlocked, so a typo never costs a passphrase; spawn has the last word.
 */
function surelyMissing(file: string, env: NodeJS.ProcessEnv): boolean {
  if (file.includes('/')) return !existsSync(file);
  return !(env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':').some((dir) => existsSync(join(dir || '.', file)));
}

export async function run(cmd: string[], o: { keys: string[] }): Promise<number | void> {
  const env = process.env;
  if (surelyMissing(cmd[0]!, env)) {
    say(`${cmd[0]}: command not found`);
    return 127;
  }
  let scope = await resolveScope({ env, keys: o.keys, getHeld: daemonHeld });
  scope = await unlockOnTty(scope, env, o.keys);
  assertReady(scope, o.keys.length > 0, env);

  const childEnv: NodeJS.ProcessEnv = { ...env };
  for (const [name, value] of scope.vars) childEnv[name] = value;
  return runChild(cmd, childEnv);
}

/**
 * Spawns CMD and waits. Signals sent to keyrack are passed on — except SIGINT
 * when we have a controlling terminal: a Ctrl-C there already reaches the child
 * (same process group), and a second SIGINT would, e.g., quit a REPL that only
 * meant to cancel a line. keyrack itself stays alive until the child is done.
 */
function runChild(cmd: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [file, ...args] = cmd as [string, ...string[]];
  return new Promise((resolve) => {
    const forwardInt = !hasControllingTty();
    // Handlers go in before the spawn: a signal that arrives in between is held
    // and passed on, rather than killing keyrack and orphaning the command.
    let child: ReturnType<typeof spawn> | undefined;
    const early: NodeJS.Signals[] = [];
    const pass = (sig: NodeJS.Signals) => {
      if (sig === 'SIGINT' && !forwardInt) return;
      if (!child) early.push(sig);
      else if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    };
    const handlers = new Map<NodeJS.Signals, () => void>();
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      const h = () => pass(sig);
      handlers.set(sig, h);
      process.on(sig, h);
    }
    let finished = false;
    const done = (code: number) => {
      if (finished) return;
      finished = true;
      for (const [sig, h] of handlers) process.off(sig, h);
      resolve(code);
    };
    child = spawn(file, args, { stdio: 'inherit', env });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        say(`${file}: command not found`);
        done(127);
      } else {
        say(`${file}: ${e.code === 'EACCES' ? 'permission denied' : e.message}`);
        done(126);
      }
    });
    child.on('exit', (code, signal) => {
      if (signal) done(128 + (constants.signals[signal] ?? 0));
      else done(code ?? 1);
    });
    for (const sig of early.splice(0)) pass(sig);
  });
}
