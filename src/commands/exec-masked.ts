/**
 * The Node CLI's `exec --mask`: hands the command to keyrack-fast's masking mode
 * (`keyrack-fast --masked -- CMD…`, native/mask.c), so there is one masker. The
 * variables go to it on a pipe (fd 3), never in its argv or the environment it is
 * started with; it sets them for the command, relays and masks its output, and
 * exits with its status (or dies of its signal).
 */
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import { findUp } from '../findup.js';

/** keyrack-fast, when the native build is there (beside the code, as the hook finds it). */
export function maskerPath(): string | undefined {
  const from = process.argv[1] ? dirname(realpathSync(process.argv[1])) : dirname(fileURLToPath(import.meta.url));
  return findUp(from, join('native', 'build', 'Release', 'keyrack-fast'), 4);
}

/** Why --mask cannot be honoured without the native build (exit 2: the user chooses --no-mask or builds it). */
export function noMasker(): UserError {
  return new UserError('--mask needs keyrack-fast, the native client (./install.sh or scripts/build-all.sh builds it); nothing was run — use --no-mask to run unmasked');
}

/** The bytes for fd 3: NAME NUL VALUE NUL, per variable. */
export function maskedInput(vars: ReadonlyMap<string, string>): Buffer {
  return Buffer.concat([...vars].flatMap(([n, v]) => [Buffer.from(`${n}\0`), Buffer.from(`${v}\0`)]));
}
