/**
 * The user's opt-in to a user-wide daemon (docs/systemd.md). Such a daemon has no
 * audit session, so a client can check only its uid; a shell in a login session
 * therefore uses it only when the user said so on this side — a file, never a word
 * in the daemon's hello, which anyone of this uid can send. Kept to one lstat so
 * native/fast_client.c (user_daemon_opted_in) checks it the same way.
 */
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { configDir, uid, type Env } from '../paths.js';

/** $XDG_CONFIG_HOME/keyrack/user-daemon: present = opted in (its content is not read). */
export function userDaemonOptInPath(env: Env = process.env): string {
  return join(configDir(env), 'user-daemon');
}

/** True when the opt-in file is a regular file of ours that nobody else can write. */
export function userDaemonOptedIn(env: Env = process.env): boolean {
  try {
    const st = lstatSync(userDaemonOptInPath(env));
    return st.isFile() && st.uid === uid() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}
