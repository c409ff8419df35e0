/**
 * Fingerprints let the shell remember what keyrack set without holding a value:
 * first 16 hex chars of HMAC-SHA256(per-user random key, name + "\0" + value).
 * The key is secret (0600 under the data dir), so a fingerprint in KEYRACK_STATE,
 * which every child process sees, does not let anyone test guesses of a value.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { KeyrackError } from '../errors.js';
import { FileCache } from '../filecache.js';
import { createFileAtomic } from '../fsutil.js';
import { files, type Env } from '../paths.js';

const KEY_BYTES = 32;

/**
 * The key as read, kept while its file is the same file (filecache.ts): the daemon
 * fingerprints on every export, and the open, read and close were a tenth of its
 * work there. A replaced key (a restore, a removed data dir) is a new file.
 */
const keys = new FileCache<Buffer>(2);

function readKey(path: string): Buffer | undefined {
  return keys.read(path, (buf) => {
    if (buf.length !== KEY_BYTES) {
      throw new KeyrackError(`${path} is not a ${KEY_BYTES}-byte key; remove it and keyrack will make a new one`);
    }
    return Buffer.from(buf); // the cache zeroes what it read
  });
}

/**
 * The per-user key, created on first use. Two shells may race to create it: it is
 * created only where none exists, so the loser reads the winner's and both end up
 * with the same key (a replaced key would make every shell's state look hand-edited).
 */
export function fingerprintKey(env: Env = process.env): Buffer {
  const path = files.fingerprintKey(env);
  const have = readKey(path);
  if (have) return have;
  createFileAtomic(path, randomBytes(KEY_BYTES));
  const key = readKey(path);
  if (!key) throw new KeyrackError(`${path} vanished while it was being created`);
  return key;
}

export function fingerprint(key: Buffer, name: string, value: string): string {
  return createHmac('sha256', key).update(`${name}\0${value}`, 'utf8').digest('hex').slice(0, 16);
}

/**
 * Which key made a shell's fingerprints, kept beside them in KEYRACK_STATE: when the
 * key was replaced (its file removed, a restore), the fingerprints cannot be checked,
 * and the diff must know that rather than take every value for one changed by hand.
 * An HMAC of a fixed label, so it tells nothing about the key or any value.
 */
export function keyId(key: Buffer): string {
  let id = ids.get(key);
  if (id === undefined) {
    id = createHmac('sha256', key).update('keyrack fingerprint key id', 'utf8').digest('hex').slice(0, 8);
    ids.set(key, id);
  }
  return id;
}

/** keyId of each key buffer the cache hands out (an export asks twice). */
const ids = new WeakMap<Buffer, string>();
