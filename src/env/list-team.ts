/**
 * The rows `list` adds for the team file of the current project (beside the
 * nearest manifest): each of its keys, with where it stands — ready (the daemon holds it),
 * locked, or overridden by your own registry's key of that name (yours wins).
 */
import type { TeamSource } from './team-scope.js';
import type { Registry } from '../registry.js';

/** One team key, as list shows it. */
export interface TeamRow {
  name: string;
  vault: 'team';
  file: string;
  state: 'ready' | 'locked' | 'overridden';
}

/** One row per key of the team file, in name order. */
export function teamRows(team: TeamSource, reg: Registry, held: ReadonlySet<string>): TeamRow[] {
  return [...team.file.values.keys()].sort().map((name) => ({
    name, vault: 'team', file: team.file.path,
    state: reg.keys[name] ? 'overridden' : held.has(team.storeName(name)) ? 'ready' : 'locked',
  }));
}
