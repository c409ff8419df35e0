/**
 * Reading the team file beside a manifest. It is content from a cloned repo, read
 * as the manifest is (boundedread.ts): only a regular file, never through a
 * symlink, at most TEAM_MAX_BYTES; every refusal names the file, never its bytes.
 */
import { join } from 'node:path';
import { BoundedReadError, readRegularBounded } from '../boundedread.js';
import { decodeStrict, firstInvalidUtf8 } from '../utf8.js';
import { TEAM_FILE, TEAM_MAX_BYTES, TeamFileError, parseTeam, type TeamFile } from './file.js';

/** The team file that goes with the manifest in `dir` (the real path of its directory). */
export function teamPathIn(dir: string): string {
  return join(dir, TEAM_FILE);
}

function refused(e: BoundedReadError): TeamFileError {
  const r = e.refusal;
  switch (r.kind) {
    case 'not-regular':
      return new TeamFileError(e.path, 0, `is ${r.what}; keyrack reads only a regular ${TEAM_FILE} file (a link could point anywhere) — replace it with the file itself`);
    case 'too-large': return new TeamFileError(e.path, 0, `is larger than ${TEAM_MAX_BYTES} bytes; that is not a team file`);
    case 'replaced': return new TeamFileError(e.path, 0, 'was replaced while being read; try again');
    case 'unreadable': return new TeamFileError(e.path, 0, `cannot be read (${r.code})`);
  }
}

/** The bytes of the team file at `path` (bounded, regular only), or null when there is none. */
export function readTeamBytes(path: string): { path: string; buf: Buffer } | null {
  try {
    return readRegularBounded(path, TEAM_MAX_BYTES);
  } catch (e) {
    if (e instanceof BoundedReadError && e.refusal.kind === 'unreadable' && e.refusal.code === 'ENOENT') return null;
    throw e instanceof BoundedReadError ? refused(e) : e;
  }
}

/** Parses bytes read by readTeamBytes. Throws TeamFileError. */
export function parseTeamBytes(got: { path: string; buf: Buffer }): TeamFile {
  const text = decodeStrict(got.buf);
  if (text === null) {
    const upto = got.buf.subarray(0, firstInvalidUtf8(got.buf));
    throw new TeamFileError(got.path, upto.toString('latin1').split('\n').length, 'is not valid UTF-8');
  }
  return parseTeam(got.path, text);
}

/** Reads and parses the team file at `path`; null when there is none. Throws TeamFileError. */
export function readTeamFile(path: string): TeamFile | null {
  const got = readTeamBytes(path);
  return got === null ? null : parseTeamBytes(got);
}

/** The team file beside the manifest in `dir`, or null. */
export function teamBeside(dir: string): TeamFile | null {
  return readTeamFile(teamPathIn(dir));
}
