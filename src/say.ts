/**
 * One line to the person at the terminal, on stderr: `keyrack: `, then the message
 * with paths under HOME as `~/…` and every control character escaped (printable.ts).
 * Messages are made of names and paths, never values.
 */
import { forHumans } from './printable.js';

export function say(msg: string): void {
  process.stderr.write(`keyrack: ${forHumans(msg)}\n`);
}
