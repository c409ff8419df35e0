/**
 * How the engine resolves a manifest name through the team file: a name your host
 * registry does not map comes from the `.keyrack.team` beside the (trusted)
 * manifest, held in the daemon under a name bound to that file (team/storename.ts).
 * The file is repo content, like the manifest: its values are the team's, not
 * yours, so — as with an alias — none may fill a variable that changes how a
 * program runs or publishes what it holds (variables.ts); your own key may.
 */
import { TeamFileError, type TeamFile } from '../team/file.js';
import { teamBeside } from '../team/read.js';
import { teamId, teamStoreName } from '../team/storename.js';
import { FAMILIES, matchFamily } from './variables.js';

/** The team file in effect for a manifest, and the daemon's names for its keys. */
export interface TeamSource {
  file: TeamFile;
  /** team/storename.ts teamId of the file's path. */
  id: string;
  storeName(key: string): string;
}

/** The team file beside the manifest in `dir`, or null when there is none. Throws TeamFileError. */
export function teamSourceFor(manifest: { dir: string }): TeamSource | null {
  const file = teamBeside(manifest.dir);
  if (file === null) return null;
  const id = teamId(file.path);
  return { file, id, storeName: (key) => teamStoreName(id, key) };
}

/** teamSourceFor, with a broken file as its error rather than a throw: scope, status and list go on without it. */
export function teamSourceOrError(manifest: { dir: string }): TeamSource | TeamFileError | null {
  try {
    return teamSourceFor(manifest);
  } catch (e) {
    if (e instanceof TeamFileError) return e;
    throw e;
  }
}

/** Why the team value of `key` may not fill the variable `env`, or null when it may. */
export function teamVarProblem(env: string, key: string): string | null {
  for (const f of FAMILIES) {
    const rule = matchFamily(f, env);
    if (rule === null) continue;
    const why = rule === env ? '' : ` (${rule})`;
    const line = env === key ? env : `${env} = ${key}`;
    return `${line}: a team value cannot fill ${env} — it is read by ${f.reader}, and ${f.risk}${why}; only your own key named ${env} may set it (keyrack set ${env})`;
  }
  return null;
}
