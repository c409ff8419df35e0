/**
 * The host registry: this user's map of key name → vault (plus a reference, an
 * AWS profile or, for cmd, an argv). Never values. One JSON file, written atomically
 * under an exclusive lock so concurrent `set`s never lose a key.
 */
import { FileCache } from './filecache.js';
import { isRecord, notJson, readJsonFile, unusableFile, withFileLock, writeFileAtomic } from './fsutil.js';
import { keyNameProblem } from './env/names.js';
import { files, type Env } from './paths.js';

export const VAULTS = [
  'os.secure', 'os.direct', '1password', 'aws.sso',
  'pass', 'keyring', 'hashicorp', 'aws.secrets', 'aws.ssm', 'cmd',
] as const;
export type VaultId = (typeof VAULTS)[number];

export interface RegistryEntry {
  vault: VaultId;
  /** 1password: op://vault/item/field; pass, keyring, hashicorp, aws.secrets, aws.ssm: their reference */
  ref?: string;
  /** aws.sso, aws.secrets, aws.ssm: the AWS CLI profile name */
  profile?: string;
  /** cmd: the program and its arguments, run without a shell (only ever from this file) */
  argv?: string[];
  /** keyring: keyrack created the item (`set` with a value), so `rm` deletes it too */
  stored?: true;
  /** Only `exec` and `get` hand it out: the hook never puts it into an interactive shell (set/mark --exec-only). */
  execOnly?: true;
}

export interface Registry {
  version: 1;
  /** Without a prototype, so `keys[name]` is undefined for any name not stored. */
  keys: Record<string, RegistryEntry>;
}

export function isVaultId(v: string): v is VaultId {
  return (VAULTS as readonly string[]).includes(v);
}

/** Checks a parsed registry document (`path` names it in errors): a backup's is checked so before it is restored. */
export function parseRegistry(path: string, raw: unknown): Registry {
  const bad = (why: string) => unusableFile(path, why);
  if (!isRecord(raw)) throw bad('expected a JSON object');
  if (raw.version !== 1) throw bad(`unsupported version ${JSON.stringify(raw.version)} (expected 1)`);
  if (!isRecord(raw.keys)) throw bad('"keys" must be an object');
  // No prototype: a key named "constructor" or "__proto__" must be just a key.
  const keys: Record<string, RegistryEntry> = Object.create(null) as Record<string, RegistryEntry>;
  for (const [name, e] of Object.entries(raw.keys)) {
    const p = keyNameProblem(name);
    if (p) throw bad(p);
    if (!isRecord(e) || typeof e.vault !== 'string' || !isVaultId(e.vault)) throw bad(`key ${name}: unknown vault`);
    const entry: RegistryEntry = { vault: e.vault };
    if (typeof e.ref === 'string') entry.ref = e.ref;
    if (typeof e.profile === 'string') entry.profile = e.profile;
    if (e.argv !== undefined) {
      if (!Array.isArray(e.argv) || e.argv.length === 0 || !e.argv.every((a) => typeof a === 'string')) throw bad(`key ${name}: "argv" must be a non-empty list of strings`);
      entry.argv = [...(e.argv as string[])];
    }
    if (e.stored === true) entry.stored = true;
    if (e.execOnly === true) entry.execOnly = true;
    keys[name] = entry;
  }
  return { version: 1, keys };
}

/** A fresh copy of the registry, for a caller that changes it (under withRegistryLock) or keeps it. */
export function loadRegistry(env: Env = process.env): Registry {
  const path = files.registry(env);
  const raw = readJsonFile(path);
  if (raw === undefined) return { version: 1, keys: Object.create(null) as Record<string, RegistryEntry> };
  return parseRegistry(path, raw);
}

const cache = new FileCache<Readonly<Registry>>(4);

/**
 * The registry for reading only, parsed once per version of the file (filecache.ts):
 * the daemon answers every export from it, and 10,000 keys must cost what 10 do.
 * Frozen, since every later caller shares it.
 */
export function readRegistry(env: Env = process.env): Readonly<Registry> {
  const path = files.registry(env);
  const got = cache.read(path, (buf) => {
    let raw: unknown;
    try {
      raw = JSON.parse(buf.toString('utf8')) as unknown;
    } catch {
      throw notJson(path);
    }
    const r = parseRegistry(path, raw);
    for (const e of Object.values(r.keys)) {
      if (e.argv) Object.freeze(e.argv);
      Object.freeze(e);
    }
    Object.freeze(r.keys);
    return Object.freeze(r);
  });
  return got ?? { version: 1, keys: Object.create(null) as Record<string, RegistryEntry> };
}

/** Runs fn with an exclusive lock on the registry; released even on SIGKILL (flock). */
export function withRegistryLock<T>(env: Env, fn: () => T): T {
  return withFileLock(files.registryLock(env), fn);
}

/** Writes the registry; only while holding withRegistryLock (flock does not nest: never call updateRegistry inside it). */
export function saveRegistry(env: Env, r: Registry): void {
  writeFileAtomic(files.registry(env), JSON.stringify(r, null, 2) + '\n');
}

/** Read-modify-write of the registry under its lock. */
export function updateRegistry(env: Env, fn: (r: Registry) => void): Registry {
  return withRegistryLock(env, () => {
    const r = loadRegistry(env);
    fn(r);
    saveRegistry(env, r);
    return r;
  });
}
