/**
 * os.direct: values in a plaintext JSON file, mode 0600 — for secrets that are
 * fine at rest under the user's own account. No daemon or passphrase is needed to
 * read it, so `export` reads it synchronously on the hot path (readDirect).
 */
import { UserError } from '../errors.js';
import { isRecord, readJsonFile, unusableFile, withFileLock, writeFileAtomic } from '../fsutil.js';
import { files, type Env } from '../paths.js';
import type { Fetched, FetchContext, KeyRef, Vault } from './vault.js';

interface DirectFile {
  version: 1;
  values: Record<string, string>;
}

function load(env: Env): DirectFile {
  const path = files.directVault(env);
  const raw = readJsonFile(path);
  if (raw === undefined) return { version: 1, values: {} };
  return checkDirect(path, raw);
}

/** Checks a parsed os.direct file (`path` names it in errors); the names of its keys, never a value, in errors. */
export function checkDirect(path: string, raw: unknown): DirectFile {
  const bad = (why: string) => unusableFile(path, why);
  if (!isRecord(raw)) throw bad('expected a JSON object');
  if (raw.version !== 1) throw bad(`unsupported version ${JSON.stringify(raw.version)} (expected 1)`);
  if (!isRecord(raw.values)) throw bad('"values" must be an object');
  const values: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, v] of Object.entries(raw.values)) {
    // Name the key only: the value itself must never reach an error message.
    if (typeof v !== 'string') throw bad(`the value of ${JSON.stringify(name)} is not a string`);
    values[name] = v;
  }
  return { version: 1, values };
}

/** Read-modify-write under an flock of its own (not the registry's: `set` holds that one). */
function update(env: Env, fn: (f: DirectFile) => boolean): void {
  withFileLock(`${files.directVault(env)}.lock`, () => {
    const f = load(env);
    if (fn(f)) writeFileAtomic(files.directVault(env), JSON.stringify(f, null, 2) + '\n');
  });
}

/** Stores several values in one locked read-modify-write (synchronous: callable under the registry lock). */
export function putDirect(values: ReadonlyMap<string, string>, env: Env): void {
  update(env, (f) => {
    for (const [name, value] of values) f.values[name] = value;
    return true;
  });
}

/** Removes one value, if present (synchronous: callable under the registry lock). */
export function removeDirect(name: string, env: Env): void {
  update(env, (f) => {
    if (!Object.hasOwn(f.values, name)) return false;
    delete f.values[name];
    return true;
  });
}

/** The os.direct values of `names` that exist (synchronous, for `export` and `get`). */
export function readDirect(names: readonly string[], env: Env = process.env): Map<string, string> {
  const out = new Map<string, string>();
  if (names.length === 0) return out;
  const f = load(env);
  for (const n of names) {
    if (Object.hasOwn(f.values, n)) out.set(n, f.values[n]!);
  }
  return out;
}

export function missingDirect(name: string, env: Env): UserError {
  return new UserError(`${name} is absent: the os.direct vault (${files.directVault(env)}) holds no value for it — run keyrack set ${name}`);
}

export const vault: Vault = {
  id: 'os.direct',

  async fetch(keys: KeyRef[], ctx: FetchContext): Promise<Map<string, Fetched | Error>> {
    const found = readDirect(keys.map((k) => k.name), ctx.env);
    const out = new Map<string, Fetched | Error>();
    for (const { name } of keys) {
      const v = found.get(name);
      out.set(name, v === undefined ? missingDirect(name, ctx.env) : { value: v });
    }
    return out;
  },
};
