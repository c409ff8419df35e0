/**
 * `keyrack import FILE.env [--vault os.secure|os.direct] [--force]`: store every
 * KEY=value of a dotenv file (syntax: src/dotenv.ts). FILE `-` reads stdin, so
 * values piped from another tool (`op inject`, a decrypting command) never touch
 * the disk. All or nothing: the whole file is parsed first, and a bad line, an
 * existing key (without --force) or an unusable vault stores nothing. All keys are written under one registry lock. Reports names
 * only, never values.
 */
import { someNames } from '../say.js';
import { readFileSync } from 'node:fs';
import { isatty } from 'node:tty';
import { UserError } from '../errors.js';
import { bumpGeneration } from '../generation.js';
import { dropHeldKeys } from '../held.js';
import { parseDotenv } from '../dotenv.js';
import { isVaultId, loadRegistry, VAULTS } from '../registry.js';
import { downgradeWarning, isDowngrade, isValueVault, KeysExist, storeValues, VALUE_VAULTS } from '../storekeys.js';
import { forHumans } from '../printable.js';

/** `-`, which the CLI hands over as /dev/stdin: read fd 0 itself, which also works when it is a socket. */
const isStdin = (file: string) => file === '/dev/stdin';

function readFile(file: string): Buffer {
  // isatty(0), not process.stdin.isTTY: creating that stream makes a pipe on fd 0
  // non-blocking, and readFileSync(0) then fails with EAGAIN on a slow writer (op inject).
  if (isStdin(file) && isatty(0)) throw new UserError('import -: stdin is a terminal; pipe a dotenv file in (… | keyrack import -)');
  try {
    return readFileSync(isStdin(file) ? 0 : file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : code ?? 'unreadable';
    throw new UserError(`cannot read ${file}: ${why}`);
  }
}

export async function run(file: string, o: { vault?: string; force: boolean; downgrade?: boolean }): Promise<number | void> {
  const env = process.env;
  const vaultId = o.vault ?? 'os.secure';
  if (!isValueVault(vaultId)) {
    if (isVaultId(vaultId)) throw new UserError(`${vaultId} keeps references, not values: import into ${VALUE_VAULTS.join(' or ')}, or add the key with keyrack set KEY --vault ${vaultId}`);
    throw new UserError(`unknown vault '${vaultId}'; use one of ${VAULTS.join(', ')}`);
  }

  const buf = readFile(file);
  const label = isStdin(file) ? 'stdin' : file;
  let entries;
  try {
    entries = parseDotenv(buf, label);
  } finally {
    buf.fill(0);
  }
  if (entries.length === 0) throw new UserError(`${label} has no KEY=value lines; nothing imported`);

  // Bad registry or an os.secure that cannot take keys: stop before anything is written.
  loadRegistry(env);
  if (vaultId === 'os.secure') (await import('../vaults/secure.js')).checkReady(env);

  const values = new Map(entries.map((e) => [e.name, e.value]));
  let previous;
  try {
    previous = await storeValues(vaultId, values, env, { overwrite: o.force, downgrade: o.downgrade === true });
  } catch (e) {
    if (e instanceof KeysExist) {
      throw new UserError(`${label}: ${e.names.length === 1 ? 'this key exists' : 'these keys exist'} already: ${someNames(e.names)} — nothing imported; add --force to overwrite ${e.names.length === 1 ? 'it' : 'them'}`);
    }
    throw e;
  }

  // Keys that moved vault (their old copies are gone already).
  const moved = [...previous].filter(([, e]) => e.vault !== vaultId).map(([name, e]) => `${name} (from ${e.vault})`);
  // The daemon must not keep serving a value that was just replaced.
  const held = await dropHeldKeys([...previous.keys()], env);
  bumpGeneration(env);

  const names = entries.map((e) => e.name);
  process.stderr.write(`keyrack: imported ${names.length} ${names.length === 1 ? 'key' : 'keys'} into ${vaultId}: ${someNames(names)}\n`);
  if (previous.size > 0) process.stderr.write(`keyrack: replaced ${[...previous.keys()].join(' ')}\n`);
  if (moved.length > 0) process.stderr.write(`keyrack: moved ${moved.join(', ')}\n`);
  const down = [...previous].filter(([, e]) => isDowngrade(e.vault, vaultId));
  for (const from of new Set(down.map(([, e]) => e.vault))) {
    process.stderr.write(`keyrack: ${forHumans(downgradeWarning(down.filter(([, e]) => e.vault === from).map(([n]) => n), from, env))}\n`);
  }
  if (held.length > 0) process.stderr.write(`keyrack: the daemon held old values of ${held.join(' ')}; locked them — keyrack unlock to load the new ones\n`);
}
