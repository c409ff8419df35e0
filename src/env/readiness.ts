/**
 * Whether a scope is ready, and the words for what is not: untrusted, denied,
 * locked, absent. One place for both commands that say them, each in its own form:
 * `export` in the prompt's one short line ("A locked — run keyrack unlock"),
 * `exec` in the sentence it stops with ("A is locked — run keyrack unlock").
 */
import { UserError } from '../errors.js';
import type { Env } from '../paths.js';
import { MANIFEST_FILE } from './manifest.js';
import { currentDir, type Scope } from './scope.js';

/** `hint`: export's prompt line (names the manifest `.keyrack`, drops the verb); `sentence`: exec's error. */
export type Form = 'hint' | 'sentence';

/** "A" or "3 keys", with " is"/" are" in a sentence, then the word, then "(A, B, C)" when several. */
function keysAre(keys: readonly string[], form: Form, word: string): string {
  const one = keys.length === 1;
  const verb = form === 'sentence' ? (one ? ' is' : ' are') : '';
  return one ? `${keys[0]}${verb} ${word}` : `${keys.length} keys${verb} ${word} (${keys.join(', ')})`;
}

/** The words, each written once. `path`: the manifest's; the hint form says `.keyrack` instead. */
export const words = {
  untrusted: (path: string, form: Form): string => `${form === 'hint' ? MANIFEST_FILE : path} is not allowed — run keyrack allow`,
  denied: (path: string, form: Form): string =>
    form === 'hint' ? `${MANIFEST_FILE} is denied — keyrack allow to use it` : `${path} is denied — run keyrack allow to use it`,
  /** `then`: what comes of it (exec on a terminal unlocks on the spot). */
  locked: (keys: readonly string[], form: Form, then = 'run keyrack unlock'): string => `${keysAre(keys, form, 'locked')} — ${then}`,
  absent: (keys: readonly string[], form: Form): string =>
    `${keysAre(keys, form, 'not set up')} — run keyrack set ${keys.length === 1 ? keys[0] : 'KEY'}`,
  /** Why the hook leaves these out, said on its line. */
  execOnly: (vars: readonly string[]): string =>
    `${vars.length === 1 ? vars[0] : `${vars.length} keys (${vars.join(', ')})`} exec-only — keyrack exec -- CMD`,
  noManifest: (dir: string): string => `no ${MANIFEST_FILE} in ${dir} or above — name keys with --key K`,
};

/** export's hints about what could not be loaded, in the order it says them; [] when all is well. */
export function notices(scope: Scope | null, manifestError: string | null): string[] {
  if (manifestError) return [manifestError];
  if (!scope) return [];
  const path = scope.manifest?.path ?? MANIFEST_FILE;
  if (scope.trust === 'untrusted') return [words.untrusted(path, 'hint')];
  if (scope.trust === 'denied') return [words.denied(path, 'hint')];
  const out: string[] = [];
  if (scope.locked.length) out.push(words.locked(scope.locked, 'hint'));
  if (scope.absent.length) out.push(words.absent(scope.absent, 'hint'));
  out.push(...scope.problems);
  if (scope.execOnly.length) out.push(words.execOnly(scope.execOnly));
  return out;
}

/**
 * exec's check: stops with exit 2 (a UserError) unless every required key has a
 * value. `byKeys`: the keys were named with --key, so no manifest is involved.
 */
export function assertReady(scope: Scope, byKeys: boolean, env: Env): void {
  if (!byKeys) {
    if (!scope.manifest) throw new UserError(words.noManifest(currentDir(env)));
    if (scope.trust === 'untrusted') throw new UserError(words.untrusted(scope.manifest.path, 'sentence'));
    if (scope.trust === 'denied') throw new UserError(words.denied(scope.manifest.path, 'sentence'));
  }
  if (scope.problems.length) throw new UserError(scope.problems.join('; '));
  if (scope.absent.length) throw new UserError(words.absent(scope.absent, 'sentence'));
  if (scope.locked.length) throw new UserError(words.locked(scope.locked, 'sentence'));
}
