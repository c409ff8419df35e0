/** `keyrack allow [DIR]` / `keyrack deny [DIR]`: trust or block the nearest manifest. */
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { findManifest, manifestPath, MANIFEST_FILE, readManifest, type Manifest } from '../env/manifest.js';
import { teamHolds } from '../env/team-here.js';
import { words } from '../env/readiness.js';
import { loadRegistry } from '../registry.js';
import { closest } from '../suggest.js';
import { currentDir } from '../env/scope.js';
import { allow, deny } from '../env/trust.js';
import { say, someNames } from '../say.js';

function locate(dir: string | undefined): string {
  const target = resolve(currentDir(process.env), dir ?? '.');
  let st;
  try {
    st = statSync(target);
  } catch {
    throw new UserError(`${target} does not exist`);
  }
  if (st.isFile()) {
    if (basename(target) !== MANIFEST_FILE) throw new UserError(`${target} is not a ${MANIFEST_FILE} file`);
    return target;
  }
  const found = findManifest(target);
  if (!found) throw new UserError(`no ${MANIFEST_FILE} in ${target} or any directory above it`);
  return found;
}

export async function run(dir: string | undefined, trust: boolean): Promise<number | void> {
  const file = locate(dir);
  if (!trust) {
    // Bound as allow binds it: the directory's real path, never where a link points.
    const path = manifestPath(file);
    deny(path);
    say(`denied ${path} — its keys will not be loaded until keyrack allow`);
    return 0;
  }
  // Refuse to trust a manifest that does not parse: the error says where.
  const m = readManifest(file);
  // Before trusting it: which of your keys it routes into a variable of another name.
  for (const e of m.entries) if (e.env !== e.key) say(`alias ${e.env}${e.optional ? '?' : ''} ← ${e.key}`);
  allow(m);
  const names = m.entries.map((e) => e.env + (e.optional ? '?' : ''));
  say(`allowed ${m.path} (${names.length} ${names.length === 1 ? 'key' : 'keys'}${names.length ? ': ' + someNames(names) : ''})`);
  sayAbsent(m);
  return 0;
}

/**
 * Keys it lists that you never set and its team file does not hold, in one line,
 * with "did you mean" for a typo (a registry or team file that fails to load says so elsewhere).
 */
function sayAbsent(m: Manifest): void {
  let keys: string[];
  try {
    keys = Object.keys(loadRegistry(process.env).keys);
  } catch {
    return;
  }
  const absent = [...new Set(m.entries.filter((e) => !e.optional && !keys.includes(e.key) && !teamHolds(m, e.key)).map((e) => e.key))];
  if (absent.length === 0) return;
  const near = new Map<string, string>();
  for (const k of absent) {
    const n = closest(k, keys);
    if (n !== undefined) near.set(k, n);
  }
  say(words.absent(absent, 'sentence', near));
}
