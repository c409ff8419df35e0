/**
 * The project manifest `.keyrack`: key *names* only, safe to commit (DESIGN.md §2).
 *   NAME            env var NAME <- key NAME
 *   NAME = key      env var NAME <- key `key`
 *   NAME?           optional: absent or locked is not an error, and no hint
 */
import { UserError } from './errors.js';

export const MANIFEST_FILE = '.keyrack';

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

/** The nearest .keyrack from dir upwards, or null. */
export function findManifest(_dir: string): string | null {
  throw new Error('todo');
}

export function parseManifest(_path: string, _content: string): Manifest {
  throw new Error('todo');
}

/** Finds, reads and parses the nearest manifest; null when there is none. */
export function loadManifest(_dir: string = process.cwd()): Manifest | null {
  throw new Error('todo');
}
