/**
 * How big one value may be. Linux refuses to exec with any environment string
 * over 128 KiB (MAX_ARG_STRLEN), and every string shares one argument space: a
 * value that large, once exported, makes every command the shell runs fail with
 * "Argument list too long" — keyrack's own unload included. So keyrack refuses
 * values over a quarter of that at the door (set, import, every vault at unlock,
 * os.direct on read), naming the key and the limit, never quoting the value.
 */

import { UserError } from './errors.js';

/** The bound on one value (or one variable of a multi-variable key), in UTF-8 bytes. */
export const MAX_VALUE_BYTES = 32 * 1024;

/** The limit as a message says it. */
export const MAX_VALUE_SHOWN = '32 KiB';

/** The size of a value, in UTF-8 bytes. */
export function valueBytes(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/** Sizes as a message says them (never the value). */
function shownSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} bytes`;
}

/** Thrown (exit 2) by set and import before anything is stored. */
export class ValueTooLarge extends UserError {}

/**
 * Why a value is refused for its size, or null: "its value is 1.0 MiB, over
 * keyrack's limit of 32 KiB per value (…)". The caller puts the key's name before it.
 */
export function sizeProblem(value: string | Record<string, string>): string | null {
  if (typeof value === 'string') {
    const n = valueBytes(value);
    return n > MAX_VALUE_BYTES ? `its value is ${shownSize(n)}, over keyrack's limit of ${MAX_VALUE_SHOWN} per value (Linux refuses to run commands with an environment string over 128 KiB)` : null;
  }
  for (const [name, v] of Object.entries(value)) {
    const n = valueBytes(v);
    if (n > MAX_VALUE_BYTES) return `its variable ${name} is ${shownSize(n)}, over keyrack's limit of ${MAX_VALUE_SHOWN} per value (Linux refuses to run commands with an environment string over 128 KiB)`;
  }
  return null;
}

/** A ValueTooLarge naming every key of `values` over the limit, or null when none is. */
export function oversized(values: ReadonlyMap<string, string>, nothing: string): ValueTooLarge | null {
  const bad: string[] = [];
  for (const [name, v] of values) {
    const p = sizeProblem(v);
    if (p) bad.push(`${name}: ${p}`);
  }
  if (bad.length === 0) return null;
  const shown = bad.length > 5 ? [...bad.slice(0, 5), `… and ${bad.length - 5} more`] : bad;
  return new ValueTooLarge(`${shown.join('; ')} — ${nothing}`);
}
