/**
 * `keyrack team init|add|rm|list|set|unset|rekey`: the project's team file, values
 * committed in the repo encrypted to every teammate's age recipient. Dispatch and
 * argument counts only; members in team-members.ts, values in team-values.ts.
 */
import { UserError } from '../errors.js';

const USAGE: Record<string, string> = {
  init: 'keyrack team init [--label LABEL]',
  add: 'keyrack team add LABEL RECIPIENT   (the teammate runs keyrack whoami for RECIPIENT)',
  rm: 'keyrack team rm LABEL',
  list: 'keyrack team list [--json]',
  set: 'keyrack team set KEY   (the value from a hidden prompt, or stdin)',
  unset: 'keyrack team unset KEY',
  rekey: 'keyrack team rekey',
};

/** The team subcommands, for help and completion. */
export const TEAM_ACTIONS = Object.keys(USAGE);

export async function run(action: string, args: string[], o: { json: boolean; label?: string }): Promise<number | void> {
  const usage = USAGE[action];
  if (usage === undefined) {
    throw new UserError(action === '' ? `usage: keyrack team ${TEAM_ACTIONS.join('|')} …` : `unknown team command '${action}': one of ${TEAM_ACTIONS.join(', ')}`);
  }
  const arity: Record<string, number> = { init: 0, add: 2, rm: 1, list: 0, set: 1, unset: 1, rekey: 0 };
  if (args.length !== arity[action]) throw new UserError(`usage: ${usage}`);
  if (o.label !== undefined && action !== 'init') throw new UserError('--label is only for keyrack team init (team add takes the label as its first word)');
  if (o.json && action !== 'list') throw new UserError('--json is only for keyrack team list');
  const [a = '', b = ''] = args;
  switch (action) {
    case 'init': return (await import('./team-members.js')).init(o.label);
    case 'add': return (await import('./team-members.js')).add(a, b);
    case 'rm': return (await import('./team-members.js')).rm(a);
    case 'list': return (await import('./team-members.js')).list(o.json);
    case 'set': return (await import('./team-values.js')).set(a);
    case 'unset': return (await import('./team-values.js')).unset(a);
    default: return (await import('./team-values.js')).rekey();
  }
}
