/** The two kinds of names keyrack accepts, and why some are refused. */
import { UserError } from '../errors.js';
import { FAMILIES, matchFamily } from './variables.js';

/** Key names in the host registry (DESIGN.md §1, issue 2). */
export const KEY_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
export const KEY_NAME_MAX = 128;

/** Throws the user-facing error for a bad key name (exit 2). */
export function assertKeyName(name: string): void {
  const p = keyNameProblem(name);
  if (p) throw new UserError(p);
}

/** Environment variable names a manifest may set (DESIGN.md §2). */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why a key name is invalid, or null when it is fine. */
export function keyNameProblem(name: string): string | null {
  if (name.length === 0) return 'key name is empty';
  if (name.length > KEY_NAME_MAX) return `key name is longer than ${KEY_NAME_MAX} characters`;
  if (!KEY_NAME.test(name)) return `key name ${JSON.stringify(name)} must match ${KEY_NAME.source}`;
  return null;
}

/**
 * Variables refused in every form, even from the user's key of the same name: the
 * shell acts on them at the prompt, or they run a command or load code from the
 * value (data and reasons: variables.ts). keyrack-fast refuses the same names,
 * from a C header generated from these two exports.
 */
export const HARD_NAMES: ReadonlySet<string> = new Set(FAMILIES.flatMap((f) => f.hard ?? []));
export const HARD_PREFIXES: readonly string[] = FAMILIES.flatMap((f) => f.hardPrefixes ?? []);

/** Why an env var name may not be set by a manifest in any form, or null when it may. */
export function envNameProblem(name: string): string | null {
  if (!ENV_NAME.test(name)) return `${JSON.stringify(name)} is not a valid variable name (${ENV_NAME.source})`;
  for (const f of FAMILIES) {
    const rule = f.hard?.includes(name) ? name : f.hardPrefixes?.find((p) => name.startsWith(p));
    if (rule === undefined) continue;
    const why = rule === name ? '' : ` (${rule}*)`;
    return `${name} changes how programs or shells run${why} — it is read by ${f.reader}, and ${f.risk}; keyrack will not set it`;
  }
  return null;
}

/**
 * Why `env = key` may not be written as an alias, or null when it may. The author
 * of a manifest picks names and the values are the user's: into these variables a
 * value someone else routed there runs code, changes behaviour or is published, so
 * only the user's own key of that name may fill them. Assumes envNameProblem passed.
 */
export function aliasProblem(env: string, key: string): string | null {
  if (env === key) return null;
  for (const f of FAMILIES) {
    const rule = matchFamily(f, env);
    if (rule === null) continue;
    const why = rule === env ? '' : ` (${rule})`;
    return `${env} = ${key}: an alias cannot fill ${env} — it is read by ${f.reader}, and ${f.risk}${why}; only your own key named ${env} may set it`;
  }
  return null;
}
