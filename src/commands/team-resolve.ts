/**
 * Where the commands that take key names (unlock, get, lock) find team values:
 * names your registry does not map, listed in the `.keyrack.team` beside the
 * nearest manifest — and only once that manifest is allowed, for the team file is
 * repo content like the manifest. And unlock's decryption of them under its one
 * passphrase, into the daemon under names bound to that file (team/storename.ts).
 */
import { lstatSync } from 'node:fs';
import { messageOf } from '../errors.js';
import { loadManifest, ManifestError, MANIFEST_FILE } from '../env/manifest.js';
import { currentDir } from '../env/scope.js';
import { teamSourceOrError, type TeamSource } from '../env/team-scope.js';
import { trustOf } from '../env/trust.js';
import type { Env } from '../paths.js';
import type { Unlocked } from '../secret.js';
import { TEAM_FILE, TeamFileError } from '../team/file.js';
import { teamPathIn } from '../team/read.js';
import type { FetchContext } from '../vaults/vault.js';

/** Where unlock may take team values from, and what to add to "not in the registry" when nowhere. */
export interface TeamPlan {
  team: TeamSource | null;
  /** A broken team file beside an allowed manifest: said once. */
  broken?: TeamFileError;
  /** Appended to a missing key's message (e.g. the team file waits for `keyrack allow`). */
  hint: string;
}

/** The team file unlock and get may take values from: beside the nearest manifest, once that manifest is allowed. */
export function teamPlan(env: Env): TeamPlan {
  let m;
  try {
    m = loadManifest(currentDir(env));
  } catch (e) {
    if (e instanceof ManifestError) return { team: null, hint: '' }; // named keys still unlock
    throw e;
  }
  if (!m) return { team: null, hint: '' };
  if (trustOf(m, env) !== 'allowed') {
    // Not read before the manifest is allowed: whether one stands there is enough for the hint.
    let there = true;
    try {
      lstatSync(teamPathIn(m.dir));
    } catch {
      there = false;
    }
    return { team: null, hint: there ? ` (the ${TEAM_FILE} beside ${MANIFEST_FILE} is read once you keyrack allow it)` : '' };
  }
  const t = teamSourceOrError(m);
  if (t === null) return { team: null, hint: '' };
  if (t instanceof TeamFileError) return { team: null, broken: t, hint: ` (the ${TEAM_FILE} beside ${MANIFEST_FILE} cannot be read: see above)` };
  return { team: t, hint: '' };
}


/** A team key that did not open, with its reason (file and line). */
export interface TeamFailure {
  name: string;
  why: string;
}

/**
 * Decrypts `names` from the team file with the context's identity (its one
 * passphrase). Returns what to put, by the daemon's names, and what failed; a
 * wrong passphrase rejects (WrongPassphrase), as os.secure's fetch does.
 */
export async function fetchTeamValues(team: TeamSource, names: string[], ctx: FetchContext): Promise<{ put: Record<string, Unlocked>; failures: TeamFailure[] }> {
  const { fetchTeam } = await import('../vaults/team.js');
  const got = await fetchTeam(team.file, names, ctx);
  const put: Record<string, Unlocked> = {};
  const failures: TeamFailure[] = [];
  for (const name of names) {
    const r = got.get(name);
    if (r === undefined) failures.push({ name, why: 'the team file returned nothing' });
    else if (r instanceof TeamFileError) failures.push({ name, why: `${r.file}${r.line > 0 ? `:${r.line}` : ''}: ${r.reason}` });
    else if (r instanceof Error) failures.push({ name, why: messageOf(r) });
    else if ('value' in r) put[team.storeName(name)] = { value: r.value };
  }
  return { put, failures };
}
