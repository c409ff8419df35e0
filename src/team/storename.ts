/**
 * The name a team value is held under in the daemon: `team:<id>:<KEY>`, where id
 * names the team file (16 hex of sha256 over its path). Two projects whose team
 * files both have DATABASE_URL never hand each other's value out, and a key of
 * your own registry (which cannot hold a ':') never meets a team value's name.
 */
import { createHash } from 'node:crypto';

/** Every name the daemon holds: a registry key's, or a team value's. */
export const STORE_NAME = /^(?:team:[0-9a-f]{16}:)?[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;

/** The id of the team file at `path` (the real path of its directory plus .keyrack.team). */
export function teamId(path: string): string {
  return createHash('sha256').update(path, 'utf8').digest('hex').slice(0, 16);
}

/** The daemon's name for `key` of the team file with this id. */
export function teamStoreName(id: string, key: string): string {
  return `team:${id}:${key}`;
}

/** A held name split into its key and, for a team value, the team file's id. */
export function parseStoreName(name: string): { key: string; team?: string } {
  const m = /^team:([0-9a-f]{16}):(.+)$/.exec(name);
  return m ? { key: m[2]!, team: m[1]! } : { key: name };
}
