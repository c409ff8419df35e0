/**
 * Bumps the generation file (see paths.generationPath): shell hooks compare its
 * token at each prompt and call `keyrack export` only when it changed. Any new
 * token will do; it carries no secret. Written by rename so a reader never sees
 * a torn token.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { generationPath, type Env } from './paths.js';

/** `session`: whose hooks to wake (default: this process's session). */
export function bumpGeneration(env: Env = process.env, session?: number | null): string {
  const token = `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
  try {
    const path = session === undefined ? generationPath(env) : generationPath(env, session);
    // A fresh name, created exclusively: never written through a link planted in a
    // runtime dir someone else could write to.
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, token + '\n', { mode: 0o600, flag: 'wx' });
    renameSync(tmp, path);
  } catch {
    // No runtime dir yet: no hook can be waiting on it either.
  }
  return token;
}
