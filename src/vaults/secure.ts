/**
 * os.secure: standard age files. `init` makes an X25519 identity and stores it
 * encrypted with a passphrase (age scrypt); each key is one file encrypted to the
 * identity's public recipient, so adding a key needs no passphrase. Reading runs
 * scrypt once to open the identity, then X25519 per key (fast): one passphrase and
 * one slow step per unlock, however many keys. The real `age` CLI reads all of it:
 *   age -d identity.age > id.txt;  age -d -i id.txt keys/NAME.age
 */
import { Decrypter, Encrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { KeyrackError, UserError } from '../errors.js';
import { createFileAtomic, readIfExists, writeFileAtomic } from '../fsutil.js';
import { textOf } from '../input.js';
import { files, type Env } from '../paths.js';
import { withRegistryLock } from '../registry.js';
import type { Fetched, FetchContext, KeyRef, Vault } from './vault.js';

/** What age-encryption throws when no identity (here: the passphrase) opens a file. */
const NO_MATCH = "no identity matched any of the file's recipients";

/** The passphrase does not open the identity: unlock backs off on exactly this. */
export class WrongPassphrase extends UserError {
  constructor() {
    super('wrong passphrase');
  }
}

function notInitialized(): UserError {
  return new UserError('no os.secure identity yet: run keyrack init first (or use --vault os.direct)');
}

/**
 * Creates the identity and its recipient file; refuses when an identity exists.
 * Serialized by the registry lock so two racing inits cannot leave a recipient that
 * does not belong to the stored identity. Returns the public recipient.
 */
export async function initSecure(passphrase: string, env: Env): Promise<string> {
  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  // Written like age-keygen's output, so `age -d` gives a file `age -i` reads.
  const plain = `# created by keyrack: ${new Date().toISOString()}\n# public key: ${recipient}\n${identity}\n`;
  const enc = new Encrypter();
  enc.setPassphrase(passphrase);
  const sealed = await enc.encrypt(plain); // the one slow step (scrypt), outside the lock
  return withRegistryLock(env, () => {
    const idPath = files.identity(env);
    if (readIfExists(idPath) !== undefined) throw alreadyInitialized(env);
    writeFileAtomic(files.recipient(env), `${recipient}\n`);
    // Never replaces an identity that appeared meanwhile.
    if (!createFileAtomic(idPath, sealed)) throw alreadyInitialized(env);
    return recipient;
  });
}

export function alreadyInitialized(env: Env): UserError {
  return new UserError(`an os.secure identity already exists (${files.identity(env)}); keyrack init will not replace it`);
}

/** Throws the UserError that says what to do when os.secure cannot take a key yet. */
export function checkReady(env: Env): void {
  if (readIfExists(files.identity(env)) === undefined) throw notInitialized();
  if (readIfExists(files.recipient(env)) === undefined) {
    throw new UserError(`${files.recipient(env)} is missing; recreate it from the identity: age -d ${files.identity(env)} | age-keygen -y > ${files.recipient(env)}`);
  }
}

/** This user's own age recipient (`keyrack whoami`; what teammates encrypt to). */
export function readRecipient(env: Env): string {
  checkReady(env);
  const buf = readIfExists(files.recipient(env)) ?? Buffer.alloc(0);
  const r = buf.toString('utf8').trim();
  if (!/^age1[0-9a-z]+$/.test(r)) throw new UserError(`${files.recipient(env)} does not hold an age recipient (age1…); fix it or restore it from a backup`);
  return r;
}

/**
 * Encrypts values to the public recipient (fast X25519; no passphrase). One
 * Encrypter for all: the recipient is read once, and each encrypt() still draws
 * its own file key.
 */
export async function seal(values: ReadonlyMap<string, string>, env: Env): Promise<Map<string, Uint8Array>> {
  const enc = new Encrypter();
  enc.addRecipient(readRecipient(env));
  const sealed = new Map<string, Uint8Array>();
  for (const [name, value] of values) sealed.set(name, await enc.encrypt(value));
  return sealed;
}

/** Writes a sealed value as the key's file, atomically (synchronous, so it fits under the registry lock). */
export function writeSealed(name: string, sealed: Uint8Array, env: Env): void {
  writeFileAtomic(files.secureKey(name, env), sealed);
}

/** Decrypts a passphrase-encrypted age file (`path` names it in errors): the one scrypt. */
export async function openWithPassphrase(sealed: Uint8Array, passphrase: string, path: string): Promise<Uint8Array> {
  const d = new Decrypter();
  d.addPassphrase(passphrase);
  try {
    return await d.decrypt(sealed);
  } catch (e) {
    if (e instanceof Error && e.message === NO_MATCH) throw new WrongPassphrase();
    throw new UserError(`${path} is not a passphrase-encrypted age file keyrack can read (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Encrypts to a passphrase (age scrypt: what the real `age -p` writes and `age -d` opens). */
export async function sealWithPassphrase(plain: Uint8Array, passphrase: string): Promise<Uint8Array> {
  const enc = new Encrypter();
  enc.setPassphrase(passphrase);
  return enc.encrypt(plain);
}

/** The AGE-SECRET-KEY-1 line of a decrypted identity file. */
function identityLine(plain: string, path: string): string {
  const line = plain.split('\n').map((l) => l.trim()).find((l) => l.startsWith('AGE-SECRET-KEY-1'));
  if (line === undefined) throw new KeyrackError(`${path} decrypts, but holds no AGE-SECRET-KEY-1 identity`);
  return line;
}

const opened = new WeakMap<FetchContext, Promise<string>>();

/**
 * The identity, opened at most once per context: the os.secure keys and the team
 * values of one unlock share its one passphrase prompt and its one scrypt.
 */
export function identityFor(ctx: FetchContext): Promise<string> {
  let p = opened.get(ctx);
  if (p === undefined) {
    p = (async () => {
      if (readIfExists(files.identity(ctx.env)) === undefined) throw notInitialized();
      return openIdentity(await ctx.passphrase(), ctx.env);
    })();
    opened.set(ctx, p);
  }
  return p;
}

/** Opens the identity with the passphrase: the one scrypt of an unlock. */
async function openIdentity(passphrase: string, env: Env): Promise<string> {
  const path = files.identity(env);
  const sealed = readIfExists(path);
  if (sealed === undefined) throw notInitialized();
  const plain = await openWithPassphrase(sealed, passphrase, path);
  try {
    return identityLine(Buffer.from(plain).toString('utf8'), path);
  } finally {
    plain.fill(0);
  }
}

/**
 * The public recipient of a passphrase-encrypted identity file (a backup's): it must
 * be the recipient.txt beside it, or keys set after a restore would be sealed to
 * an identity nobody has.
 */
export async function recipientOfSealed(sealed: Uint8Array, passphrase: string, label: string): Promise<string> {
  const plain = await openWithPassphrase(sealed, passphrase, label);
  try {
    return await identityToRecipient(identityLine(Buffer.from(plain).toString('utf8'), label));
  } finally {
    plain.fill(0);
  }
}

/** Throws WrongPassphrase unless `passphrase` opens the identity (backup asks for it once, and checks it so). */
export async function checkPassphrase(passphrase: string, env: Env): Promise<void> {
  await openIdentity(passphrase, env);
}

/**
 * `keyrack passwd`: the identity re-encrypted under a new passphrase, in one atomic
 * write; the keys (encrypted to its public recipient) are untouched. Refused when the
 * identity changed between reading it and writing it back (another passwd, a restore).
 */
export async function changePassphrase(oldPass: string, newPass: string, env: Env): Promise<void> {
  const path = files.identity(env);
  const sealed = readIfExists(path);
  if (sealed === undefined) throw notInitialized();
  const plain = await openWithPassphrase(sealed, oldPass, path);
  let resealed: Uint8Array;
  try {
    identityLine(Buffer.from(plain).toString('utf8'), path);
    resealed = await sealWithPassphrase(plain, newPass);
  } finally {
    plain.fill(0);
  }
  withRegistryLock(env, () => {
    const now = readIfExists(path);
    if (now === undefined || !now.equals(sealed)) throw new UserError(`${path} changed while the passphrase was being changed; nothing changed — run keyrack passwd again`);
    writeFileAtomic(path, resealed);
  });
}

async function decryptKey(d: Decrypter, name: string, env: Env): Promise<Fetched | Error> {
  const path = files.secureKey(name, env);
  const sealed = readIfExists(path);
  if (sealed === undefined) return new UserError(`${name} is absent: ${path} is missing — run keyrack set ${name}`);
  try {
    const plain = await d.decrypt(sealed);
    try {
      return { value: textOf(plain, `the os.secure value of ${name}`) };
    } finally {
      plain.fill(0);
    }
  } catch (e) {
    if (e instanceof UserError) return e;
    return new UserError(`${path} cannot be decrypted with this identity (${e instanceof Error ? e.message : String(e)})`);
  }
}

export const vault: Vault = {
  id: 'os.secure',

  /** One passphrase, one scrypt; a wrong passphrase fails the whole call (nothing is written). */
  async fetch(keys: KeyRef[], ctx: FetchContext): Promise<Map<string, Fetched | Error>> {
    const out = new Map<string, Fetched | Error>();
    if (keys.length === 0) return out;
    const identity = await identityFor(ctx);
    const d = new Decrypter();
    d.addIdentity(identity);
    const results = await Promise.all(keys.map(({ name }) => decryptKey(d, name, ctx.env)));
    keys.forEach(({ name }, i) => out.set(name, results[i]!));
    return out;
  },
};
