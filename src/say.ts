/**
 * One line to the person at the terminal, on stderr: `keyrack: `, then the message
 * with paths under HOME as `~/…` and every control character escaped (printable.ts).
 * Messages are made of names and paths, never values.
 */
import { forHumans } from './printable.js';

export function say(msg: string): void {
  process.stderr.write(`keyrack: ${forHumans(msg)}\n`);
}

/**
 * Names for one line: all of them up to `max`, else the first `max` and how many
 * more ("A B C … and 9,997 more"), so 10,000 keys never make a 60 KB line.
 */
export function someNames(names: readonly string[], max = 8): string {
  if (names.length <= max + 1) return names.join(' ');
  return `${names.slice(0, max).join(' ')} … and ${(names.length - max).toLocaleString('en-US')} more`;
}
