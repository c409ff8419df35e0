/**
 * `keyrack backup FILE`: one age file, encrypted with your os.secure passphrase
 * (asked once on a terminal; one line of stdin otherwise, checked against the
 * identity first), holding the identity, the registry and the local vaults — a tar
 * inside (src/backup.ts), so the real age CLI opens it: `age -d FILE | tar -t`.
 * The archive exists only in memory and is zeroed once sealed; FILE is created
 * 0600 and never overwritten.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../errors.js';
import { collectBackup } from '../backup.js';
import { createFileAtomic } from '../fsutil.js';
import { readPassphrase } from '../input.js';
import { files } from '../paths.js';
import { say } from '../say.js';
import { writeTar } from '../tar.js';
import { withProgress } from '../term.js';
import { readIfExists } from '../fsutil.js';

const exists = (target: string) => new UserError(`${target} exists; a backup never replaces a file — choose another name`);

export async function run(file: string): Promise<number | void> {
  const env = process.env;
  const target = resolve(file);
  if (readIfExists(files.identity(env)) === undefined) throw new UserError('no os.secure identity to back up: keyrack init first — a backup is encrypted with its passphrase');
  // Said before the passphrase is asked (and made sure of when the file is created).
  if (existsSync(target)) throw exists(target);
  const secure = await import('../vaults/secure.js');
  const passphrase = await readPassphrase('os.secure passphrase: ', { confirm: false });
  await withProgress('checking the passphrase', () => secure.checkPassphrase(passphrase, env));
  const { files: contents, keys, missing } = collectBackup(env);
  const tar = writeTar(contents);
  for (const f of contents) f.data.fill(0);
  let sealed: Uint8Array;
  try {
    sealed = await withProgress('encrypting the backup (this takes a moment)', () => secure.sealWithPassphrase(tar, passphrase));
  } finally {
    tar.fill(0);
  }
  if (!createFileAtomic(target, sealed)) throw exists(target);
  say(`backed up ${keys} ${keys === 1 ? 'key' : 'keys'} (the os.secure identity, the registry, os.secure and os.direct) to ${target}, encrypted with your os.secure passphrase`);
  say(`open it by hand with: age -d ${target} | tar -tv`);
  if (missing.length > 0) say(`not in it: ${missing.join(' ')} — registered in os.secure without a file (keyrack doctor)`);
}
