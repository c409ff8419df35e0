/**
 * What a backup holds and how it comes back: the os.secure identity (still
 * encrypted with the passphrase), its recipient, one age file per os.secure key,
 * the os.direct file and the registry — as a tar (src/tar.ts) under fixed names, so
 * nothing in a backup can name a path of its own. The commands (backup, restore)
 * encrypt and decrypt it; this module reads a HOME into one and writes one into a
 * HOME. Trust, the fingerprint key and the audit log stay behind: they belong to a
 * machine, and a restored HOME allows its projects again.
 */
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from './errors.js';
import { KEY_NAME, KEY_NAME_MAX } from './env/names.js';
import { readIfExists, writeFileAtomic } from './fsutil.js';
import { configDir, files, type Env } from './paths.js';
import { loadRegistry, parseRegistry, saveRegistry, withRegistryLock, type Registry } from './registry.js';
import { checkDirect } from './vaults/direct.js';
import type { TarFile } from './tar.js';

const ROOT = 'keyrack-backup';
const MARK = `${ROOT}/BACKUP`;
const REGISTRY = `${ROOT}/registry.json`;
const IDENTITY = `${ROOT}/secure/identity.age`;
const RECIPIENT = `${ROOT}/secure/recipient.txt`;
const DIRECT = `${ROOT}/direct.json`;
const KEYS = `${ROOT}/secure/keys/`;

/** A backup's contents, checked. */
export interface BackupContents {
  registry: Registry;
  identity: Uint8Array;
  recipient: string;
  /** os.secure key files by key name. */
  keys: Map<string, Uint8Array>;
  /** The os.direct file as it was, or undefined when there was none. */
  direct?: Uint8Array;
}

/** The key names of the os.secure key files here. */
function secureKeyFiles(env: Env): string[] {
  try {
    return readdirSync(dirname(files.secureKey('x', env))).filter((f) => f.endsWith('.age')).map((f) => f.slice(0, -4)).filter((n) => KEY_NAME.test(n)).sort();
  } catch {
    return [];
  }
}

/**
 * This HOME's keyrack, as the files of a backup, read under the registry lock so a
 * concurrent `set` is in it whole or not at all. `missing`: registered os.secure
 * keys without a file (they cannot be in it).
 */
export function collectBackup(env: Env): { files: TarFile[]; keys: number; missing: string[] } {
  return withRegistryLock(env, () => {
    const identity = readIfExists(files.identity(env));
    const recipient = readIfExists(files.recipient(env));
    if (!identity || !recipient) throw new UserError('no os.secure identity (or its recipient file) to back up: keyrack init first — a backup is encrypted with its passphrase');
    // A registry that does not parse is named, and stops the backup (its text is never quoted).
    const registry = loadRegistry(env);
    const reg = readIfExists(files.registry(env)) ?? Buffer.from('{"version":1,"keys":{}}\n');
    const out: TarFile[] = [];
    const names = Object.keys(registry.keys);
    out.push({ name: MARK, data: Buffer.from(JSON.stringify({ keyrack: 'backup', version: 1, created: new Date().toISOString(), keys: names.length }) + '\n') });
    out.push({ name: REGISTRY, data: reg }, { name: IDENTITY, data: identity }, { name: RECIPIENT, data: recipient });
    const onDisk = secureKeyFiles(env);
    for (const n of onDisk) out.push({ name: `${KEYS}${n}.age`, data: readIfExists(files.secureKey(n, env))! });
    const direct = readIfExists(files.directVault(env));
    if (direct) out.push({ name: DIRECT, data: direct });
    const missing = names.filter((n) => registry.keys[n]!.vault === 'os.secure' && !onDisk.includes(n));
    return { files: out, keys: names.length, missing };
  });
}

/** The files of a decrypted backup, checked name by name and file by file; `label` names it in errors. */
export function parseBackup(entries: readonly TarFile[], label: string): BackupContents {
  const bad = (why: string) => new UserError(`${label} is not a keyrack backup: ${why}`);
  const byName = new Map<string, Uint8Array>();
  for (const e of entries) {
    const known = [MARK, REGISTRY, IDENTITY, RECIPIENT, DIRECT].includes(e.name) ||
      (e.name.startsWith(KEYS) && e.name.endsWith('.age') && KEY_NAME.test(e.name.slice(KEYS.length, -4)) && e.name.length - KEYS.length - 4 <= KEY_NAME_MAX);
    if (!known) throw bad('it holds a file keyrack never puts in one');
    if (byName.has(e.name)) throw bad('it holds a file twice');
    byName.set(e.name, e.data);
  }
  let mark: unknown;
  try {
    mark = JSON.parse(Buffer.from(byName.get(MARK) ?? Buffer.alloc(0)).toString('utf8'));
  } catch {
    throw bad('its BACKUP file does not parse');
  }
  const m = mark as { keyrack?: unknown; version?: unknown };
  if (m?.keyrack !== 'backup') throw bad('it has no BACKUP file');
  if (m.version !== 1) throw bad(`it is version ${JSON.stringify(m.version)}; this keyrack reads version 1`);
  const need = (name: string) => {
    const d = byName.get(name);
    if (!d) throw bad(`${name.slice(ROOT.length + 1)} is missing`);
    return d;
  };
  let registry: Registry;
  try {
    registry = parseRegistry(`${label}: registry.json`, JSON.parse(Buffer.from(need(REGISTRY)).toString('utf8')) as unknown);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw bad('its registry.json does not parse');
  }
  const direct = byName.get(DIRECT);
  if (direct) {
    try {
      checkDirect(`${label}: direct.json`, JSON.parse(Buffer.from(direct).toString('utf8')) as unknown);
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw bad('its direct.json does not parse'); // V8's message would quote the text: values
    }
  }
  const keys = new Map<string, Uint8Array>();
  for (const [name, data] of byName) if (name.startsWith(KEYS)) keys.set(name.slice(KEYS.length, -4), data);
  const recipient = Buffer.from(need(RECIPIENT)).toString('utf8').trim();
  if (!/^age1[0-9a-z]+$/.test(recipient)) throw bad('its recipient.txt holds no age recipient');
  return { registry, identity: need(IDENTITY), recipient, keys, ...(direct ? { direct } : {}) };
}

/** What a restore would replace here, as paths (nothing: a fresh HOME). */
export function existingSetup(env: Env): string[] {
  const found: string[] = [];
  if (readIfExists(files.identity(env)) !== undefined) found.push(files.identity(env));
  const reg = readIfExists(files.registry(env));
  if (reg !== undefined) found.push(files.registry(env));
  if (readIfExists(files.directVault(env)) !== undefined) found.push(files.directVault(env));
  if (secureKeyFiles(env).length > 0) found.push(dirname(files.secureKey('x', env)));
  return found;
}

/**
 * Writes a backup's contents into this HOME, under the registry lock: the os.secure
 * directory is built beside the old one and swapped in by rename, then the os.direct
 * file, then the registry last — so a crash leaves the old registry naming old files,
 * or the new one naming new files. Whatever was there (with --force) is replaced.
 */
export function applyBackup(c: BackupContents, env: Env): void {
  withRegistryLock(env, () => {
    const secure = files.secureDir(env);
    const staged = `${secure}.restore-${process.pid}`;
    const old = `${secure}.old-${process.pid}`;
    rmSync(staged, { recursive: true, force: true });
    mkdirSync(join(staged, 'keys'), { recursive: true, mode: 0o700 });
    const at = (p: string) => join(staged, p.slice(secure.length + 1));
    writeFileAtomic(at(files.identity(env)), c.identity);
    writeFileAtomic(at(files.recipient(env)), `${c.recipient}\n`);
    for (const [name, data] of c.keys) writeFileAtomic(at(files.secureKey(name, env)), data);
    let moved = false;
    try {
      renameSync(secure, old);
      moved = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    renameSync(staged, secure);
    if (moved) rmSync(old, { recursive: true, force: true });
    if (c.direct) writeFileAtomic(files.directVault(env), c.direct);
    else rmSync(files.directVault(env), { force: true });
    mkdirSync(configDir(env), { recursive: true, mode: 0o700 });
    saveRegistry(env, c.registry);
  });
}
