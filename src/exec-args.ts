/**
 * exec's own grammar: `keyrack exec [--key K | -k K | --key=K | --mask | --no-mask]... [--] CMD [ARG...]`.
 * Its options come only before the command: everything from the first word that
 * is not an option (or after `--`) belongs to the command, flags included. The
 * native launcher reads the same grammar (native/fast_exec.c, fast_exec);
 * test/e2e/native-agreement.test.ts holds the two to it.
 */
import { UserError } from './errors.js';

/** The keys exec was asked for (manifest syntax each: NAME, NAME?, NAME=key) and the command. */
export interface ExecArgs {
  keys: string[];
  cmd: string[];
  /** --mask / --no-mask (the last wins); undefined: by whether stdout and stderr are terminals. */
  mask?: boolean;
}

/** Parses the words after `exec`; a UserError (exit 2) for an unknown option, a --key without a name, or no command. */
export function parseExecArgs(argv: readonly string[]): ExecArgs {
  const keys: string[] = [];
  let mask: boolean | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { i++; break; }
    if (a === '--mask' || a === '--no-mask') {
      mask = a === '--mask';
    } else if (a === '--key' || a === '-k') {
      const v = argv[++i];
      if (v === undefined) throw new UserError('--key needs a key name');
      keys.push(v);
    } else if (a.startsWith('--key=')) {
      keys.push(a.slice('--key='.length));
    } else if (a.startsWith('-')) {
      throw new UserError(`unknown option '${a}' for exec (put the command after --)`);
    } else {
      break;
    }
  }
  const cmd = argv.slice(i);
  if (cmd.length === 0) throw new UserError('exec needs a command: keyrack exec [--key K]... [--mask|--no-mask] [--] CMD [ARG...]');
  return mask === undefined ? { keys, cmd } : { keys, cmd, mask };
}

/** `exec --help`: only among exec's own options, before the command (`exec ls --help` is ls's). */
export function asksExecHelp(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') return true;
    if (a === '--key' || a === '-k') i++;
    else if (a === '--' || !a.startsWith('-')) return false;
  }
  return false;
}
