/** `keyrack lock [KEY…]`: drop keys from the daemon's memory (all when none named); keyrack-fast relays the daemon's own words for it. */
import { assertKeyName } from '../env/names.js';
import { chunks, withDaemon } from '../daemon/client.js';
import { lockWords } from '../daemon/lock-words.js';

export async function run(keys: string[]): Promise<number | void> {
  keys.forEach(assertKeyName);
  const removed = await withDaemon(process.env, async (c) => {
    if (keys.length === 0) return (await c.request({ op: 'lock' })).removed;
    const out: string[] = [];
    for (const part of chunks(keys)) out.push(...(await c.request({ op: 'lock', keys: part })).removed);
    return out;
  });
  if (removed === null) {
    process.stderr.write('keyrack: no daemon running; nothing is unlocked\n');
    return 0;
  }
  process.stderr.write(lockWords(keys, removed));
  return 0;
}
