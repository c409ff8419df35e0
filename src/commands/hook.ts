/**
 * `keyrack hook bash|zsh|fish|tcsh|elvish|direnv`: prints the hook file from
 * shell/ with absolute paths filled in (node, keyrack's entry script, the
 * generation file), so the hook starts keyrack without a PATH lookup and reads the
 * generation with a builtin. `direnv` prints the `use keyrack` function for
 * direnv's lib directory.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeyrackError, UserError } from '../errors.js';
import { findUp } from '../findup.js';
import { generationPath } from '../paths.js';
import { HOOK_SHELLS } from '../shells/index.js';
import { quotePosix } from '../shells/posix.js';
import { fillPlaceholders, type HookFile } from '../shells/shell.js';

/** direnv's stdlib runs an .envrc in bash. */
const direnv: HookFile = { hookFile: 'keyrack.direnv.bash', quote: quotePosix };
const HOOKS: Record<string, HookFile> = { ...HOOK_SHELLS, direnv };

/** shell/<file> from src/commands (tsx) or dist/chunks (the bundle). */
function hookFile(file: string): string {
  const p = findUp(dirname(fileURLToPath(import.meta.url)), join('shell', file));
  if (p === undefined) throw new KeyrackError(`cannot find shell/${file} next to keyrack (reinstall keyrack)`);
  return p;
}

/** The native fast-path client, when install built it: beside the script it will fall back to. */
function fastClient(script: string): string | undefined {
  return findUp(dirname(script), join('native', 'build', 'Release', 'keyrack-fast'), 3);
}

export async function run(shellName: string): Promise<number | void> {
  const hook = Object.hasOwn(HOOKS, shellName) ? HOOKS[shellName] : undefined;
  if (!hook) throw new UserError(`unknown shell '${shellName}' for hook (${Object.keys(HOOKS).join(', ')})`);
  const entry = process.argv[1];
  if (!entry) throw new KeyrackError('cannot tell where keyrack is installed');
  const file = realpathSync(hookFile(hook.hookFile));
  const script = realpathSync(entry);
  const fast = fastClient(script);
  const paths = { node: process.execPath, script, gen: generationPath(process.env), ...(fast ? { fast } : {}) };
  let text: string;
  try {
    text = hook.install ? hook.install(file, paths) : fillPlaceholders(readFileSync(file, 'utf8'), hook.quote, paths, hook.noFast);
  } catch (e) {
    // A path the shell cannot carry (tcsh: a line break in it).
    throw new UserError(`keyrack hook ${shellName}: ${(e as Error).message}`);
  }
  process.stdout.write(text);
  return 0;
}
