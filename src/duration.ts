/**
 * Durations as users type them: 30s, 15m, 8h, 1h30m, 2d (units in descending
 * order, each at most once). Used by `unlock --ttl/--idle`, `log --since` and
 * KEYRACK_REFRESH_WINDOW.
 */
import { UserError } from './errors.js';

const UNITS: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
const PATTERN = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
/** Longer than anyone should keep a secret unlocked; also keeps the arithmetic exact. */
export const MAX_DURATION_MS = 365 * 86_400_000;

/** Milliseconds, or null when `text` is not a positive duration up to a year. */
export function parseDuration(text: string): number | null {
  const m = PATTERN.exec(text.trim());
  if (!m || text.trim() === '') return null;
  let ms = 0;
  for (let i = 0; i < UNITS.length; i++) {
    const part = m[i + 1];
    if (part !== undefined) ms += Number(part) * UNITS[i]![1];
  }
  if (ms <= 0 || ms > MAX_DURATION_MS) return null;
  return ms;
}

/** A command-line flag's duration, or a UserError (exit 2) naming the flag. */
export function durationFlag(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === null) throw new UserError(`${flag} ${JSON.stringify(text)} is not a duration: use e.g. 30s, 15m, 8h, 1h30m, 2d (at most 365d)`);
  return ms;
}

/** The shortest spelling, e.g. 5400000 → "1h30m"; sub-second remainders are dropped. */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.floor(ms / 1000)) * 1000;
  if (rest === 0) return '0s';
  let out = '';
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
