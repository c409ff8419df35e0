/**
 * The one vocabulary for what keeps a key from a shell, and whether a scope is
 * ready. Each state has one word, used by every command, the hook, status and JSON:
 *   keys:      ready · locked (registered, not unlocked) · absent (no value to be had: never set, or its vault lost it)
 *   manifests: allowed · untrusted (never allowed) · changed (edited since it was allowed) · denied
 * Each word is written once here, in two forms: `export`'s prompt line ("A locked —
 * run keyrack unlock") and the sentence a command stops with ("A is locked — run
 * keyrack unlock").
 */
import { existsSync } from 'node:fs';
import { UserError } from '../errors.js';
import { files, type Env } from '../paths.js';
import type { Registry } from '../registry.js';
import { MANIFEST_FILE } from './manifest.js';
import { currentDir, directVault, type Scope } from './scope.js';
import type { Trust } from './trust.js';

/** A key's state, in status, list and their JSON. */
export type KeyState = 'ready' | 'locked' | 'absent';

/**
 * The state of registry keys, by the one rule every command uses: ready when the
 * daemon holds it or its local vault has its value; absent when it is not
 * registered or its local vault lost it; locked otherwise. For `status` and `list`.
 */
export async function keyStates(names: readonly string[], reg: Registry, held: ReadonlySet<string>, env: Env): Promise<Map<string, KeyState>> {
  const directNames = names.filter((n) => reg.keys[n]?.vault === 'os.direct');
  const direct = directNames.length > 0 ? (await directVault()).readDirect(directNames, env) : new Map<string, string>();
  const out = new Map<string, KeyState>();
  for (const n of names) {
    const entry = reg.keys[n];
    if (!entry) out.set(n, 'absent');
    else if (entry.vault === 'os.direct') out.set(n, direct.has(n) ? 'ready' : 'absent');
    else if (held.has(n)) out.set(n, 'ready');
    else if (entry.vault === 'os.secure' && !existsSync(files.secureKey(n, env))) out.set(n, 'absent');
    else out.set(n, 'locked');
  }
  return out;
}

/** `hint`: export's prompt line (names the manifest `.keyrack`, drops the verb); `sentence`: a command's error. */
export type Form = 'hint' | 'sentence';

/** "A" or "3 keys", with " is"/" are" in a sentence, then the word, then "(A, B, C)" when several. */
function keysAre(keys: readonly string[], form: Form, word: string): string {
  const one = keys.length === 1;
  const verb = form === 'sentence' ? (one ? ' is' : ' are') : '';
  return one ? `${keys[0]}${verb} ${word}` : `${keys.length} keys${verb} ${word} (${keys.join(', ')})`;
}

/** "did you mean B?" for each absent key close to a registered one. */
function didYouMean(keys: readonly string[], near: ReadonlyMap<string, string> | undefined): string {
  const pairs = keys.filter((k) => near?.has(k)).map((k) => [k, near!.get(k)!] as const);
  if (pairs.length === 0) return '';
  if (keys.length === 1) return ` — did you mean ${pairs[0]![1]}? If not,`;
  return `; did you mean ${pairs.map(([k, n]) => `${n} for ${k}`).join(', ')}?`;
}

/** The words, each written once. `path`: the manifest's; the hint form says `.keyrack` instead. */
export const words = {
  untrusted: (path: string, form: Form): string => `${form === 'hint' ? MANIFEST_FILE : path} is untrusted — run keyrack allow`,
  changed: (path: string, form: Form): string =>
    `${form === 'hint' ? MANIFEST_FILE : path} changed since it was allowed — run keyrack allow to trust it again`,
  denied: (path: string, form: Form): string => `${form === 'hint' ? MANIFEST_FILE : path} is denied — run keyrack allow to use it`,
  /** `then`: what comes of it (exec on a terminal unlocks on the spot). */
  locked: (keys: readonly string[], form: Form, then = 'run keyrack unlock'): string => `${keysAre(keys, form, 'locked')} — ${then}`,
  /** `near`: a registered key close to an absent one's name (a typo in the manifest). */
  absent: (keys: readonly string[], form: Form, near?: ReadonlyMap<string, string>): string => {
    const dym = didYouMean(keys, near);
    const set = `run keyrack set ${keys.length === 1 ? keys[0] : 'KEY'}`;
    return keys.length === 1 && dym ? `${keysAre(keys, form, 'absent')}${dym} ${set}` : `${keysAre(keys, form, 'absent')} — ${set}${dym}`;
  },
  /** Why the hook leaves these out, said on its line. */
  execOnly: (vars: readonly string[]): string =>
    `${vars.length === 1 ? vars[0] : `${vars.length} keys (${vars.join(', ')})`} exec-only — keyrack exec -- CMD`,
  noManifest: (dir: string): string => `no ${MANIFEST_FILE} in ${dir} or above — name keys with --key K`,
  /** A manifest's trust as status says it, after its path. */
  trust: (t: Trust): string => ({
    allowed: 'allowed', untrusted: 'untrusted — run keyrack allow', changed: 'changed since it was allowed — run keyrack allow',
    denied: 'denied — run keyrack allow to use it',
  })[t],
};

/** The words for a manifest that is not allowed, or null when it is. */
function notAllowed(trust: Trust | null, path: string, form: Form): string | null {
  if (trust === 'untrusted') return words.untrusted(path, form);
  if (trust === 'changed') return words.changed(path, form);
  if (trust === 'denied') return words.denied(path, form);
  return null;
}

/** export's hints about what could not be loaded, in the order it says them; [] when all is well. */
export function notices(scope: Scope | null, manifestError: string | null): string[] {
  if (manifestError) return [manifestError];
  if (!scope) return [];
  const trust = notAllowed(scope.trust, scope.manifest?.path ?? MANIFEST_FILE, 'hint');
  if (trust) return [trust];
  const out: string[] = [];
  if (scope.locked.length) out.push(words.locked(scope.locked, 'hint'));
  if (scope.absent.length) out.push(words.absent(scope.absent, 'hint', scope.near));
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
    const trust = notAllowed(scope.trust, scope.manifest.path, 'sentence');
    if (trust) throw new UserError(trust);
  }
  if (scope.problems.length) throw new UserError(scope.problems.join('; '));
  if (scope.absent.length) throw new UserError(words.absent(scope.absent, 'sentence', scope.near));
  if (scope.locked.length) throw new UserError(words.locked(scope.locked, 'sentence'));
}
