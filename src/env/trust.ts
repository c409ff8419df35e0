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

/**
 * `changed`: this path was allowed with other content (the manifest was edited since);
 * like `untrusted` it loads nothing, and says why in the words for it (readiness.ts).
 */
export type Trust = 'allowed' | 'denied' | 'untrusted' | 'changed';

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');
const denyHash = (path: string): string => sha256(path);

/**
 * The two hashes of a manifest, once per parse: the daemon's parse cache
 * (manifest.ts) hands out the same frozen object for as long as the file is unchanged.
 */
const hashed = new WeakMap<object, { allow: string; deny: string }>();

function hashesOf(m: { path: string; content: string }): { allow: string; deny: string } {
  // Only a frozen manifest cannot change under its memo.
  const frozen = Object.isFrozen(m);
  const memo = frozen ? hashed.get(m) : undefined;
  if (memo) return memo;
  const h = { allow: sha256(`${m.path}\n${m.content}`), deny: denyHash(m.path) };
  if (frozen) hashed.set(m, h);
  return h;
}

export const allowHash = (m: { path: string; content: string }): string => hashesOf(m).allow;

/** The check is one stat when allowed; only a manifest that is not reads the allow records, to tell `changed` apart. */
export function trustOf(m: { path: string; content: string }, env: Env = process.env): Trust {
  const h = hashesOf(m);
  if (existsSync(join(files.denyDir(env), h.deny))) return 'denied';
  if (existsSync(join(files.allowDir(env), h.allow))) return 'allowed';
  return allowRecordsOf(m.path, env).length > 0 ? 'changed' : 'untrusted';
}

/** Every allow record: its file, named by the hash of path + content, and the path it holds. */
function allowRecords(env: Env): Array<{ file: string; name: string; path: string }> {
  const dir = files.allowDir(env);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: Array<{ file: string; name: string; path: string }> = [];
  for (const name of names) {
    const file = join(dir, name);
    try {
      out.push({ file, name, path: readFileSync(file, 'utf8').replace(/\n$/, '') });
    } catch {
      // raced with another allow/deny
    }
  }
  return out;
}

/** The allow records of this path (of any content; allow keeps at most one). */
function allowRecordsOf(path: string, env: Env): string[] {
  return allowRecords(env).filter((r) => r.path === path).map((r) => r.file);
}

/**
 * The manifests allowed now: the path each record names, when the file there still
 * has the content that was allowed. For `rm`, which asks before removing a key one
 * of them uses. `read` returns a manifest's content, or undefined when it cannot.
 */
export function allowedManifests(env: Env, read: (path: string) => string | undefined): string[] {
  return allowRecords(env).filter((r) => {
    const content = read(r.path);
    return content !== undefined && allowHash({ path: r.path, content }) === r.name;
  }).map((r) => r.path);
}

/** Removes every allow record of this path (any content): one path, one trusted content. */
function forgetAllows(path: string, env: Env): void {
  for (const p of allowRecordsOf(path, env)) {
    try {
      unlinkSync(p);
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
