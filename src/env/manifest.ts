/**
 * The project manifest `.keyrack`: key *names* only, safe to commit.
 *   NAME            env var NAME <- key NAME
 *   NAME = key      env var NAME <- key `key`
 *   NAME?           optional: absent or locked is not an error, and no hint
 *   NAME? = key     both
 * '#' starts a comment anywhere on a line. Every error names file, line and reason.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { envNameProblem, keyNameProblem } from './names.js';
import { decodeStrict, firstInvalidUtf8 } from '../utf8.js';

export const MANIFEST_FILE = '.keyrack';
/** A manifest lists names; anything this large is not one. */
export const MANIFEST_MAX_BYTES = 64 * 1024;

export interface ManifestEntry {
  /** The environment variable to set (for aws.sso keys: the key that expands). */
  env: string;
  /** The registry key it comes from. */
  key: string;
  optional: boolean;
  line: number;
}

export interface Manifest {
  /** Real path of the file (symlinks resolved): what trust is bound to. */
  path: string;
  /** Directory holding it. */
  dir: string;
  content: string;
  entries: ManifestEntry[];
}

/** A located error: file, line, reason. Exit 2. */
export class ManifestError extends UserError {
  constructor(readonly file: string, readonly line: number, readonly reason: string) {
    super(`${file}:${line}: ${reason}`);
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The nearest .keyrack from dir upwards, or null. Same walk as the shell hooks do. */
export function findManifest(dir: string): string | null {
  let d = resolve(dir);
  for (;;) {
    const p = join(d, MANIFEST_FILE);
    if (isFile(p)) return p;
    const up = dirname(d);
    if (up === d) return null;
    d = up;
  }
}

const LINE = /^([^\s=?#]+)(\?)?\s*(?:=\s*(\S+))?$/;

/** Parses one manifest's text. Pure: `path` is only used in messages and the result. */
export function parseManifest(path: string, content: string): Manifest {
  const entries: ManifestEntry[] = [];
  const seen = new Map<string, number>();
  const lines = content.replace(/^\uFEFF/, '').split('\n');
  lines.forEach((raw, i) => {
    const line = i + 1;
    const fail = (reason: string): never => {
      throw new ManifestError(path, line, reason);
    };
    if (raw.includes('\0')) fail('contains a NUL byte');
    const hash = raw.indexOf('#');
    const text = (hash === -1 ? raw : raw.slice(0, hash)).replace(/\r$/, '').trim();
    if (text === '') return;
    const m = LINE.exec(text);
    if (!m) {
      if (/^\S+\s*=\s*$/.test(text)) fail('"=" must be followed by a key name: NAME = key');
      if (text.startsWith('=')) fail('a line must start with a variable name: NAME or NAME = key');
      fail(`cannot read ${JSON.stringify(text)}: expected NAME, NAME?, or NAME = key`);
    }
    const [, env = '', q, key] = m!;
    if (key?.endsWith('?')) fail('put "?" after the variable name: NAME? = key');
    const envProblem = envNameProblem(env);
    if (envProblem) fail(envProblem);
    const keyName = key ?? env;
    const keyProblem = keyNameProblem(keyName);
    if (keyProblem) fail(keyProblem);
    const prev = seen.get(env);
    if (prev !== undefined) fail(`${env} is already listed on line ${prev}`);
    seen.set(env, line);
    entries.push({ env, key: keyName, optional: q === '?', line });
  });
  return { path, dir: dirname(path), content, entries };
}

/** Reads and parses the manifest file at `file` (resolving symlinks for trust). */
export function readManifest(file: string): Manifest {
  const path = realpathSync(file);
  const buf = readFileSync(path);
  if (buf.length > MANIFEST_MAX_BYTES) throw new ManifestError(path, 1, `larger than ${MANIFEST_MAX_BYTES} bytes; a manifest lists key names only`);
  const content = decodeStrict(buf);
  if (content === null) {
    const upto = buf.subarray(0, firstInvalidUtf8(buf));
    throw new ManifestError(path, upto.toString('latin1').split('\n').length, 'is not valid UTF-8');
  }
  return parseManifest(path, content.replace(/^\uFEFF/, '')); // an editor's byte-order mark
}

/** Finds, reads and parses the nearest manifest; null when there is none. */
export function loadManifest(dir: string = process.cwd()): Manifest | null {
  const file = findManifest(dir);
  return file === null ? null : readManifest(file);
}
