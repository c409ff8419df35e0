/**
 * Trust, as direnv does it: a manifest is used only after `keyrack allow`, and what
 * is trusted is its path plus its content — sha256(path + "\n" + content) — so
 * editing or moving it withdraws the trust. The path is the real path of the
 * directory the manifest sits in, where it applies, plus `.keyrack`, which is never
 * a symlink (manifest.ts refuses one): so another directory cannot borrow a trusted
 * manifest by linking to it, while symlinked directories above it change nothing.
 * `deny` blocks a path until it is allowed again. One small file per decision under
 * the data dir; the check is one stat.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fsutil.js';
import { bumpGeneration } from '../generation.js';
import { files, type Env } from '../paths.js';

export type Trust = 'allowed' | 'denied' | 'untrusted';

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

export const allowHash = (m: { path: string; content: string }): string => sha256(`${m.path}\n${m.content}`);
const denyHash = (path: string): string => sha256(path);

export function trustOf(m: { path: string; content: string }, env: Env = process.env): Trust {
  if (existsSync(join(files.denyDir(env), denyHash(m.path)))) return 'denied';
  if (existsSync(join(files.allowDir(env), allowHash(m)))) return 'allowed';
  return 'untrusted';
}

/** Removes every allow record of this path (any content): one path, one trusted content. */
function forgetAllows(path: string, env: Env): void {
  const dir = files.allowDir(env);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const p = join(dir, n);
    try {
      if (readFileSync(p, 'utf8') === `${path}\n`) unlinkSync(p);
    } catch {
      // raced with another allow/deny: nothing to do
    }
  }
}

export function allow(m: { path: string; content: string }, env: Env = process.env): void {
  forgetAllows(m.path, env);
  writeFileAtomic(join(files.allowDir(env), allowHash(m)), `${m.path}\n`);
  try {
    unlinkSync(join(files.denyDir(env), denyHash(m.path)));
  } catch {
    // was not denied
  }
  bumpGeneration(env);
}

export function deny(path: string, env: Env = process.env): void {
  forgetAllows(path, env);
  writeFileAtomic(join(files.denyDir(env), denyHash(path)), `${path}\n`);
  bumpGeneration(env);
}
