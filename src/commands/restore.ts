/**
 * `keyrack restore FILE [--force]`: brings a backup (keyrack backup) into this
 * HOME — a new machine, a fresh account. Asks the passphrase the backup was made
 * with, checks everything in it (names, the registry, the os.direct file, that the
 * identity opens with that passphrase and matches its recipient) before writing a
 * byte, and refuses to replace an existing identity, registry or local vault unless
 * --force, which replaces them all with the backup's. The daemon drops what it
 * held (the values may differ now).
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../errors.js';
import { applyBackup, existingSetup, parseBackup } from '../backup.js';
import { bumpGeneration } from '../generation.js';
import { readPassphrase } from '../input.js';
import { say } from '../say.js';
import { readTar } from '../tar.js';
import { withProgress } from '../term.js';

/** A backup of a few thousand keys is a few MB; anything far larger is not one. */
const MAX_BYTES = 64 * 1024 * 1024;

function readBackupFile(path: string): Buffer {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UserError(`${path} does not exist`);
  }
  if (!st.isFile()) throw new UserError(`${path} is not a file`);
  if (st.size > MAX_BYTES) throw new UserError(`${path} is larger than ${MAX_BYTES / 1024 / 1024} MB: not a keyrack backup`);
  return readFileSync(path);
}

export async function run(file: string, o: { force: boolean }): Promise<number | void> {
  const env = process.env;
  const path = resolve(file);
  const sealed = readBackupFile(path);
  const here = existingSetup(env);
  // Said before the passphrase is asked: nobody types it for a refusal.
  if (here.length > 0 && !o.force) {
    throw new UserError(`this HOME has a keyrack setup already (${here.join(', ')}): restore will not replace it — ` +
      'add --force to replace identity, registry and local vaults with the backup\'s (keys only here are lost: keyrack backup them first)');
  }
  const secure = await import('../vaults/secure.js');
  const passphrase = await readPassphrase('Passphrase of the backup: ', { confirm: false });
  const tar = await withProgress('decrypting the backup', () => secure.openWithPassphrase(sealed, passphrase, path));
  let contents;
  try {
    contents = parseBackup(readTar(tar, path), path);
  } finally {
    tar.fill(0);
  }
  const recipient = await withProgress('checking its identity', () => secure.recipientOfSealed(contents.identity, passphrase, `${path}: identity.age`));
  if (recipient !== contents.recipient) throw new UserError(`${path} is not a keyrack backup: its recipient.txt is not its identity's public key`);
  applyBackup(contents, env);
  contents.direct?.fill(0);
  const { dropHeldKeys } = await import('../held.js');
  await dropHeldKeys(Object.keys(contents.registry.keys), env);
  bumpGeneration(env);
  const n = Object.keys(contents.registry.keys).length;
  say(`restored ${n} ${n === 1 ? 'key' : 'keys'} from ${path}${here.length > 0 ? ', replacing what was here' : ''}; its passphrase is your os.secure passphrase now`);
  say('trust is not in a backup: keyrack allow your projects again');
}
