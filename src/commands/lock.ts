/** `keyrack lock [KEY…]`: drop keys from the daemon's memory (all when none named). */
import { assertKeyName } from '../env/names.js';
import { withDaemon } from '../daemon/client.js';

export async function run(keys: string[]): Promise<number | void> {
  keys.forEach(assertKeyName);
  const removed = await withDaemon(process.env, async (c) =>
    (await c.request(keys.length > 0 ? { op: 'lock', keys } : { op: 'lock' })).removed);
  if (removed === null) {
    process.stderr.write('keyrack: no daemon running; nothing is unlocked\n');
    return 0;
  }
  const notHeld = keys.filter((k) => !removed.includes(k));
  if (notHeld.length > 0) process.stderr.write(`keyrack: already locked: ${notHeld.join(', ')}\n`);
  process.stderr.write(`keyrack: locked ${removed.length} key${removed.length === 1 ? '' : 's'}\n`);
  return 0;
}
