/**
 * Bumps the generation file (see paths.generationPath): shell hooks compare its
 * token at each prompt and call `keyrack export` only when it changed. Any new
 * token will do; it carries no secret. Written by rename so a reader never sees
 * a torn token.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, lutimesSync } from 'node:fs';
import { writeFileAtomic } from './fsutil.js';
import { generationPath, type Env } from './paths.js';

/**
 * Each generation's mtime is at least a whole second after the last one's: what
 * watches the file by its mtime in seconds (direnv's watch_file, tcsh's `-M`, which
 * cannot read the token) sees every bump, even two within one second.
 */
function nextMtime(path: string): number {
  let last = 0;
  try {
    last = Math.floor(lstatSync(path).mtimeMs / 1000);
  } catch {
    // the first generation
  }
  return Math.max(Math.floor(Date.now() / 1000), last + 1);
}

/** `session`: whose hooks to wake (default: this process's session). */
export function bumpGeneration(env: Env = process.env, session?: number | null): string {
  const token = `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
  try {
    const path = session === undefined ? generationPath(env) : generationPath(env, session);
    const mtime = nextMtime(path);
    // The temp file is created exclusively: never written through a link planted in a
    // runtime dir someone else could write to. No fsync: a token lost to a power cut
    // is simply a new one; no mkdir: without the dir no hook polls it.
    writeFileAtomic(path, token + '\n', 0o600, { durable: false, createDir: false });
    lutimesSync(path, mtime, mtime);
  } catch {
    // No runtime dir yet: no hook can be waiting on it either.
  }
  return token;
}
