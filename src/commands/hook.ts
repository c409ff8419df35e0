/**
 * `keyrack hook bash|zsh|fish`: prints the hook file from shell/ with absolute
 * paths filled in (node, keyrack's entry script, the generation file), so the hook
 * starts keyrack without a PATH lookup and reads the generation with a builtin.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeyrackError, UserError } from '../errors.js';
import { generationPath } from '../paths.js';
import { HOOK_SHELLS } from '../shells/index.js';
import { fillPlaceholders } from '../shells/shell.js';

/** shell/<file> from src/commands (tsx) or dist/chunks (the bundle). */
function hookFile(file: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const p = join(dir, 'shell', file);
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  throw new KeyrackError(`cannot find shell/${file} next to keyrack (reinstall with ./install.sh)`);
}

/** The native fast-path client, when install built it. */
function fastClient(script: string): string | undefined {
  let dir = dirname(script);
  for (let i = 0; i < 3; i++) {
    const p = join(dir, 'native', 'build', 'Release', 'keyrack-fast');
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  return undefined;
}

export async function run(shellName: string): Promise<number | void> {
  const shell = HOOK_SHELLS[shellName];
  if (!shell) throw new UserError(`unknown shell '${shellName}' for hook (bash, zsh or fish)`);
  const entry = process.argv[1];
  if (!entry) throw new KeyrackError('cannot tell where keyrack is installed');
  const text = readFileSync(hookFile(shell.hookFile), 'utf8');
  const script = realpathSync(entry);
  const fast = fastClient(script);
  process.stdout.write(fillPlaceholders(text, shell.quote, {
    node: process.execPath,
    script,
    gen: generationPath(process.env),
    ...(fast ? { fast } : {}),
  }));
  return 0;
}
