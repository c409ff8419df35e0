/**
 * Bumps the generation file (see paths.generationPath): shell hooks compare its
 * token at each prompt and call `keyrack export` only when it changed. Any new
 * token will do; it carries no secret. Written by rename so a reader never sees
 * a torn token.
 */
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from './fsutil.js';
import { generationPath, type Env } from './paths.js';

/** `session`: whose hooks to wake (default: this process's session). */
export function bumpGeneration(env: Env = process.env, session?: number | null): string {
  const token = `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
  try {
    const path = session === undefined ? generationPath(env) : generationPath(env, session);
    // The temp file is created exclusively: never written through a link planted in a
    // runtime dir someone else could write to. No fsync: a token lost to a power cut
    // is simply a new one; no mkdir: without the dir no hook polls it.
    writeFileAtomic(path, token + '\n', 0o600, { durable: false, createDir: false });
  } catch {
    // No runtime dir yet: no hook can be waiting on it either.
  }
  return token;
}
