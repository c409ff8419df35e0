/**
 * What every `keyrack team` subcommand shares: finding the team file beside the
 * nearest manifest, reading your identity once, and writing the file back without
 * losing anything — atomically (a reader sees the old file or the new one), under
 * a lock of ours, and only when nobody changed it since we read it (another team
 * command, a `git pull`): then nothing is written and the command says to run again.
 */
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { withFileLock, writeFileAtomic } from '../fsutil.js';
import { bumpGeneration } from '../generation.js';
import { dropHeldKeys } from '../held.js';
import { readPassphrase } from '../input.js';
import { loadManifest, MANIFEST_FILE, type Manifest } from '../env/manifest.js';
import { currentDir } from '../env/scope.js';
import { dataDir, type Env } from '../paths.js';
import { printable } from '../printable.js';
import { formatTeam, TEAM_FILE, TeamFileError, type TeamFile, type TeamValue } from '../team/file.js';
import { parseTeamBytes, readTeamBytes, teamPathIn } from '../team/read.js';
import { parseStoreName, teamId, teamStoreName } from '../team/storename.js';
import { withProgress } from '../term.js';
import type { FetchContext } from '../vaults/vault.js';

export const say = (msg: string) => process.stderr.write(`keyrack: ${printable(msg)}\n`);

/** The team file of this directory: where it is, and what it held when read (null: none yet). */
export interface TeamHere {
  manifest: Manifest;
  path: string;
  file: TeamFile | null;
  /** The bytes read, so the write can tell whether someone changed the file since. */
  bytes: Buffer | null;
}

/** The team file beside the nearest manifest (which must exist: the team file sits beside it). */
export function teamHere(env: Env): TeamHere {
  const manifest = loadManifest(currentDir(env));
  if (!manifest) throw new UserError(`no ${MANIFEST_FILE} in this directory or above: the team file sits beside the project's manifest — create ${MANIFEST_FILE} first`);
  const got = readTeamBytes(teamPathIn(manifest.dir));
  const path = got?.path ?? teamPathIn(manifest.dir);
  return { manifest, path, file: got === null ? null : parseTeamBytes(got), bytes: got?.buf ?? null };
}

/** teamHere, for the subcommands that need a team file to exist. */
export function existingTeam(env: Env): TeamHere & { file: TeamFile; bytes: Buffer } {
  const here = teamHere(env);
  if (here.file === null || here.bytes === null) throw new UserError(`no ${TEAM_FILE} beside ${here.manifest.path}: keyrack team init creates one`);
  return here as TeamHere & { file: TeamFile; bytes: Buffer };
}

/** Writes `next` in place of what `here` read, or refuses (nothing written) when the file changed meanwhile. */
export function writeTeam(env: Env, here: TeamHere, next: Pick<TeamFile, 'members' | 'values'>): void {
  const lock = join(dataDir(env), 'locks', `team-${teamId(here.path)}.lock`);
  withFileLock(lock, () => {
    const now = readTeamBytes(here.path);
    const same = now === null ? here.bytes === null : here.bytes !== null && now.buf.equals(here.bytes);
    if (!same) throw new UserError(`${here.path} changed while keyrack worked on it (another team command, or a git pull?); nothing written — run it again`);
    // Not created 0700, not fsynced beyond the file and its directory: it is a project file, ciphertext only.
    writeFileAtomic(here.path, formatTeam(next), 0o644, { createDir: false });
  });
  bumpGeneration(env); // the hook's next prompt re-reads which keys are locked or absent
}

/** Your identity, opened with your os.secure passphrase (one line of stdin when it is not a terminal). */
export async function openMyIdentity(env: Env): Promise<string> {
  const { checkReady, identityFor } = await import('../vaults/secure.js');
  checkReady(env); // before asking, so nobody types a passphrase for nothing
  const pass = await readPassphrase('os.secure passphrase: ', { confirm: false });
  const ctx: FetchContext = { env, interactive: true, progress: (m) => say(m), passphrase: async () => pass };
  // scrypt is the slow step (a second or two).
  return withProgress('opening your identity', () => identityFor(ctx));
}

/**
 * Every value of the team file, decrypted with your identity: all or nothing. A
 * value you cannot open stops the command (you could not re-encrypt it), naming
 * file, line and key — and how many others failed too.
 */
export async function openAll(env: Env, file: TeamFile, identity: string): Promise<Map<string, string>> {
  const { openTeam } = await import('../vaults/team.js');
  const got = await openTeam(file, [...file.values.keys()], identity, env);
  const failed = [...got.values()].filter((v): v is TeamFileError => v instanceof TeamFileError);
  if (failed.length > 0) {
    const more = failed.length > 1 ? ` (and ${failed.length - 1} more: ${failed.slice(1).map((f) => f.key).join(', ')})` : '';
    throw new UserError(`${failed[0]!.message}${more}; nothing written`);
  }
  return got as Map<string, string>;
}

/** Re-encrypts `values` to `recipients`, as a new value map. */
export async function sealAll(values: ReadonlyMap<string, string>, recipients: readonly string[]): Promise<Map<string, TeamValue>> {
  const { sealTeam } = await import('../vaults/team.js');
  return sealTeam(values, recipients);
}

/** Drops the daemon's copies of these team values (the file no longer has them as they were). */
export async function dropTeamValues(env: Env, path: string, keys: string[]): Promise<string[]> {
  const id = teamId(path);
  const held = await dropHeldKeys(keys.map((k) => teamStoreName(id, k)), env);
  return held.map((n) => parseStoreName(n).key);
}

/** "alice, bob and carol" */
export function andList(xs: readonly string[]): string {
  return xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}
