/**
 * The team vault's crypto: values committed in the repo's team file, each an
 * armored age file encrypted to every recipient (src/team/file.ts). Encrypting
 * needs only the recipients (no passphrase); reading needs your os.secure identity,
 * opened by the same passphrase and the same one scrypt as your os.secure keys
 * (secure.ts identityFor). Each age plaintext is exactly the value, so
 * `age -d -i identity.txt` reads any of them, and keyrack reads what `age -r … -a` made.
 */
import { Decrypter, Encrypter, armor } from 'age-encryption';
import type { Env } from '../paths.js';
import { recipientsOf, recipientsStamp, TeamFileError, type TeamFile, type TeamValue } from '../team/file.js';
import { X25519Identity, X25519Recipient } from './age-x25519.js';
import { decodeStrict } from '../utf8.js';
import { identityFor, readRecipient } from './secure.js';
import type { Fetched, FetchContext } from './vault.js';

/** What age-encryption throws when no identity opens a file. */
const NO_MATCH = "no identity matched any of the file's recipients";

/** Encrypts each value to every recipient: one fresh file key per value (and ephemeral key per recipient), no passphrase. */
export async function sealTeam(values: ReadonlyMap<string, string>, recipients: readonly string[]): Promise<Map<string, TeamValue>> {
  const enc = new Encrypter();
  for (const r of recipients) enc.addRecipient(new X25519Recipient(r));
  const stamp = recipientsStamp(recipients);
  const out = new Map<string, TeamValue>();
  for (const [key, value] of values) out.set(key, { key, armor: armor.encode(await enc.encrypt(value)), stamp, line: 0 });
  return out;
}

/** Why this value does not open for you, in words that say what to do. */
function notForYou(file: TeamFile, v: TeamValue, env: Env): string {
  let mine: string | undefined;
  try {
    mine = readRecipient(env);
  } catch {
    mine = undefined;
  }
  const me = file.members.find((m) => m.recipient === mine);
  if (!me) return `you are not a recipient of this team file: send the line keyrack whoami prints to a member, who runs keyrack team add LABEL RECIPIENT`;
  if (v.stamp !== null && v.stamp !== recipientsStamp(recipientsOf(file))) {
    return `it was encrypted to an earlier recipient list, without you (${me.label}): a member who can read it runs keyrack team rekey`;
  }
  return `it was not encrypted to you (${me.label}): a member who can read it runs keyrack team rekey`;
}

/** Decrypts one value; a failure is that key's located error. */
async function openValue(d: Decrypter, file: TeamFile, v: TeamValue, env: Env): Promise<string | TeamFileError> {
  let sealed: Uint8Array;
  try {
    sealed = armor.decode(v.armor);
  } catch {
    return new TeamFileError(file.path, v.line, 'its armored value does not decode (base64 or line lengths)', v.key);
  }
  let plain: Uint8Array;
  try {
    plain = await d.decrypt(sealed);
  } catch (e) {
    if (e instanceof Error && e.message === NO_MATCH) return new TeamFileError(file.path, v.line, notForYou(file, v, env), v.key);
    // age-encryption's words are fixed strings, but this is repo content: said without them.
    return new TeamFileError(file.path, v.line, 'is not a well-formed age file (its header or its body is damaged)', v.key);
  }
  try {
    // Values are text (DESIGN.md §1): refused, never altered, never quoted.
    if (plain.includes(0)) return new TeamFileError(file.path, v.line, 'its value contains a NUL byte; keyrack hands out only text', v.key);
    const text = decodeStrict(plain);
    if (text === null) return new TeamFileError(file.path, v.line, 'its value is not valid UTF-8; keyrack hands out only text', v.key);
    return text;
  } finally {
    plain.fill(0);
  }
}

/** Decrypts `keys` of the team file with an identity (AGE-SECRET-KEY-1…). */
export async function openTeam(file: TeamFile, keys: readonly string[], identity: string, env: Env): Promise<Map<string, string | TeamFileError>> {
  const d = new Decrypter();
  d.addIdentity(new X25519Identity(identity));
  const out = new Map<string, string | TeamFileError>();
  const results = await Promise.all(keys.map((k) => {
    const v = file.values.get(k);
    return v === undefined ? new TeamFileError(file.path, 0, 'is not in the team file', k) : openValue(d, file, v, env);
  }));
  keys.forEach((k, i) => out.set(k, results[i]!));
  return out;
}

/**
 * unlock's fetch: the values of `keys`, opened with your identity under the
 * context's one passphrase. A wrong passphrase fails the whole call (WrongPassphrase).
 */
export async function fetchTeam(file: TeamFile, keys: readonly string[], ctx: FetchContext): Promise<Map<string, Fetched | Error>> {
  const out = new Map<string, Fetched | Error>();
  if (keys.length === 0) return out;
  const opened = await openTeam(file, keys, await identityFor(ctx), ctx.env);
  for (const [k, v] of opened) out.set(k, typeof v === 'string' ? { value: v } : v);
  return out;
}
