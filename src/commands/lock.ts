/**
 * `keyrack lock [KEY…]`: drop keys from the daemon's memory (all when none named);
 * a named key goes in both forms: your registry's, and this project's team value.
 * keyrack-fast relays the daemon's own words for a bare `lock` (lock-words.ts).
 */
import { assertKeyName } from '../env/names.js';
import { chunks, withDaemon } from '../daemon/client.js';
import { lockWords } from '../daemon/lock-words.js';
import { TeamFileError } from '../team/file.js';
import { parseStoreName } from '../team/storename.js';
import { teamOfProject } from '../env/team-here.js';

export async function run(keys: string[]): Promise<number | void> {
  keys.forEach(assertKeyName);
  // A name is also this project's team value of that name, whether or not its manifest is allowed.
  const team = keys.length > 0 ? teamOfProject(process.env) : null;
  const names = team === null || team instanceof TeamFileError ? keys : [...keys, ...keys.map((k) => team.storeName(k))];
  const held = await withDaemon(process.env, async (c) => {
    if (keys.length === 0) return (await c.request({ op: 'lock' })).removed;
    const out: string[] = [];
    for (const part of chunks(names)) out.push(...(await c.request({ op: 'lock', keys: part })).removed);
    return out;
  });
  if (held === null) {
    process.stderr.write('keyrack: no daemon running; nothing is unlocked\n');
    return 0;
  }
  process.stderr.write(lockWords(keys, [...new Set(held.map((n) => parseStoreName(n).key))]));
  return 0;
}
