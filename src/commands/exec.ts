/**
 * `keyrack exec [--key K]... [--mask|--no-mask] [--] CMD [ARG...]`: runs one command
 * with the keys of the trusted manifest (or the --key list), exec-only ones included,
 * added to its environment. Needs no hook and changes nothing in the calling shell.
 * Unmasked, the child inherits stdin/stdout/stderr (the TTY passes straight
 * through); masked (the default when stdout or stderr is not a terminal),
 * keyrack-fast relays its output with the values replaced (exec-masked.ts). Its
 * exit status is ours, 128+n for a signal. The daemon records one exec naming the
 * program (resolved as execvp would: program.ts).
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
import { withDaemon } from '../daemon/client.js';
import type { Program } from '../daemon/protocol.js';
import { execHeld } from '../daemon/source.js';
import { assertReady, words } from '../env/readiness.js';
import { resolveScope, type HeldGetter } from '../env/scope.js';
import { withUserCoreLimit } from '../notrace.js';
import { forHumans } from '../printable.js';
import { resolveProgram } from '../program.js';
import { maskedInput, maskerPath, noMasker } from './exec-masked.js';

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

/** Which keys the daemon holds, as placeholders: to learn what is locked without a value (or an audit record) moving. */
const heldNamesOnly: HeldGetter = async (names, env) => {
  const held = await withDaemon(env, async (c) => (await c.request({ op: 'status' })).status.keys);
  if (held === null) return null;
  const have = new Set(held.map((k) => k.name));
  return Object.fromEntries(names.filter((n) => have.has(n)).map((n) => [n, { value: '', expiresAt: 0 }]));
};

/**
 * On a terminal, locked keys are unlocked on the spot (one passphrase prompt), for
 * exec only: held 15 min for the next commands, never set by the hook in a shell.
 */
async function unlockOnTty(env: NodeJS.ProcessEnv, keys: string[]): Promise<void> {
  if (!isatty(0) || !isatty(2)) return;
  const probe = await resolveScope({ env, keys, getHeld: heldNamesOnly, purpose: 'exec' });
  if (probe.locked.length === 0) return;
  say(words.locked(probe.locked, 'sentence', 'unlocking for keyrack exec only'));
  const unlock = await import('./unlock.js');
  await unlock.run(probe.locked, { all: false, forExec: true });
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

export async function run(cmd: string[], o: { keys: string[]; mask?: boolean }): Promise<number | void> {
  const env = process.env;
  const mask = o.mask ?? (!isatty(1) || !isatty(2));
  const masker = mask ? maskerPath() : undefined;
  if (mask && !masker && o.mask === true) throw noMasker();
  if (mask && !masker) say('output not masked: keyrack-fast (the native client) is not built — ./install.sh builds it; --no-mask says you know');
  const file = cmd[0]!;
  const path = resolveProgram(file, env.PATH);
  const program: Program = { path: path ?? '', argv0: file };
  if (path === null && surelyMissing(file, env)) {
    say(`${file}: command not found`);
    return 127;
  }

  await unlockOnTty(env, o.keys);
  // One get, and so one audit record, naming the program.
  const scope = await resolveScope({ env, keys: o.keys, getHeld: execHeld(program), purpose: 'exec' });
  assertReady(scope, o.keys.length > 0, env);

  if (masker) return runChild({ file: masker, args: ['--masked', '--', ...cmd], env, fd3: maskedInput(scope.vars), shown: file });
  const childEnv: NodeJS.ProcessEnv = { ...env };
  for (const [name, value] of scope.vars) childEnv[name] = value;
  return runChild({ file: path ?? file, args: cmd.slice(1), env: childEnv, argv0: file, shown: file });
}

/** What to spawn: `fd3`, bytes to write to the child's fd 3 (then closed); `shown`, the name for messages. */
interface Child {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  argv0?: string;
  fd3?: Buffer;
  shown: string;
}

/**
 * Spawns CMD and waits. Signals sent to keyrack are passed on — except SIGINT
 * when we have a controlling terminal: a Ctrl-C there already reaches the child
 * (same process group), and a second SIGINT would, e.g., quit a REPL that only
 * meant to cancel a line. keyrack itself stays alive until the child is done.
 */
function runChild(c: Child): Promise<number> {
  const { file, args, env, shown } = c;
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
    // The command is the user's: it gets their core limit back (keyrack's own is 0).
    const stdio: Array<'inherit' | 'pipe'> = c.fd3 ? ['inherit', 'inherit', 'inherit', 'pipe'] : ['inherit', 'inherit', 'inherit'];
    child = withUserCoreLimit(() => spawn(file, args, { stdio, env, ...(c.argv0 !== undefined && { argv0: c.argv0 }) }));
    const fd3 = child.stdio[3];
    if (c.fd3 && fd3 && 'end' in fd3) {
      fd3.on('error', () => { /* it exited first: its status says why */ });
      fd3.end(c.fd3);
    }
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        say(`${shown}: command not found`);
        done(127);
      } else {
        say(`${shown}: ${e.code === 'EACCES' ? 'permission denied' : e.message}`);
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
