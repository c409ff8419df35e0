/**
 * The team file of the project a caller stands in (beside the nearest manifest), for
 * list and a named lock; and whether a manifest's team file holds a key (allow, rm).
 * A broken team file is its error, so those commands say it and go on.
 */
import type { Env } from '../paths.js';
import { TeamFileError } from '../team/file.js';
import { loadManifest } from './manifest.js';
import { currentDir } from './scope.js';
import { teamSourceOrError, type TeamSource } from './team-scope.js';

/** The team file of the project at the caller's directory (`cwd`: its physical one, as currentDir takes it). */
export function teamOfProject(env: Env, cwd?: string): TeamSource | TeamFileError | null {
  let m;
  try {
    m = loadManifest(currentDir(env, cwd));
  } catch {
    return null; // a broken manifest is status's to report; list is about keys
  }
  return m ? teamSourceOrError(m) : null;
}

/** Whether the team file beside this manifest holds a value for `key` (a broken or absent one holds none). */
export function teamHolds(manifest: { dir: string }, key: string): boolean {
  const team = teamSourceOrError(manifest);
  return team !== null && !(team instanceof TeamFileError) && team.file.values.has(key);
}
