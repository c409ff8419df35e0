/**
 * `keyrack lock [KEY…]`: drop keys from the daemon's memory (all when none named);
 * a named key goes in both forms: your registry's, and this project's team value.
 */
import { assertKeyName } from '../env/names.js';
import { withDaemon } from '../daemon/client.js';
import { TeamFileError } from '../team/file.js';
import { parseStoreName } from '../team/storename.js';
import { teamOfHere } from './team-resolve.js';

export async function run(keys: string[]): Promise<number | void> {
  keys.forEach(assertKeyName);
  // A name is also this project's team value of that name, whether or not its manifest is allowed.
  const team = keys.length > 0 ? teamOfHere(process.env) : null;
  const names = team === null || team instanceof TeamFileError ? keys : [...keys, ...keys.map((k) => team.storeName(k))];
  const held = await withDaemon(process.env, async (c) =>
    (await c.request(keys.length > 0 ? { op: 'lock', keys: names } : { op: 'lock' })).removed);
  const removed = held?.map((n) => parseStoreName(n).key) ?? null;
  if (removed === null) {
    process.stderr.write('keyrack: no daemon running; nothing is unlocked\n');
    return 0;
  }
  const notHeld = keys.filter((k) => !removed.includes(k));
  if (notHeld.length > 0) process.stderr.write(`keyrack: not unlocked: ${notHeld.join(', ')}\n`);
  process.stderr.write(`keyrack: locked ${removed.length} key${removed.length === 1 ? '' : 's'}\n`);
  return 0;
}
