/**
 * Why gpg could not decrypt a pass entry. gpg says "decryption failed: No
 * secret key" both when the entry is not encrypted to any key you hold and when
 * you hold the key but no pinentry could ask its passphrase; the fix differs, so
 * we ask gpg (without decrypting) whom the file is for, and whether we hold one.
 */
import type { Env } from '../paths.js';
import { findOnPath, runTool } from './tool.js';

export type Undecryptable =
  /** A recipient key is ours: its passphrase is needed and could not be asked. */
  | { locked: true }
  /** None of the recipients is a secret key we hold (long key IDs). */
  | { recipients: string[] };

/** The gpg that pass itself runs: gpg2 when there is one, else gpg. */
export function gpgPath(env: Env): string | null {
  return findOnPath('gpg2', env) ?? findOnPath('gpg', env);
}

/** null when gpg cannot tell (not installed, or its answer is not what we expect). */
export async function whyUndecryptable(file: string, env: Env, timeoutMs: number): Promise<Undecryptable | null> {
  const gpg = gpgPath(env);
  if (!gpg) return null;
  // --list-only: report the recipients (status ENC_TO) without decrypting or prompting.
  const l = await runTool(gpg, ['--batch', '--list-only', '--status-fd', '1', '--decrypt', '--', file], { env, timeoutMs });
  const ids = [...l.stdout.toString('utf8').matchAll(/^\[GNUPG:\] ENC_TO ([0-9A-F]{16}) /gm)].map((m) => m[1]!);
  if (ids.length === 0) return null;
  const s = await runTool(gpg, ['--batch', '--with-colons', '--list-secret-keys', '--', ...ids], { env, timeoutMs });
  // A sec/ssb record: at least one recipient is a secret key we hold (gpg exits 2
  // when another of the IDs is not ours, and still lists the ones that are).
  if (/^(sec|ssb):/m.test(s.stdout.toString('utf8'))) return { locked: true };
  return { recipients: ids };
}
