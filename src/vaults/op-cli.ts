/**
 * Talking to the 1Password CLI. Two ways to fetch many references, both kept so
 * bench/op-fetch.ts can compare them: `op read` per key (a few at a time), and one
 * `op inject` with a template on stdin that holds every reference between random
 * delimiters. Values never touch argv: references go in argv or stdin, values come
 * back on stdout only.
 */
import { randomBytes } from 'node:crypto';
import { KeyrackError, UserError } from '../errors.js';
import { decodeStrict } from '../utf8.js';
import type { Env } from '../paths.js';
import { pool, runTool, seconds, toolMessage, type ToolResult } from './tool.js';

export const OP_NOT_INSTALLED =
  '1Password CLI (op) is not installed — see https://developer.1password.com/docs/cli/get-started/';
export const OP_SIGN_IN =
  'op is not signed in: run `eval $(op signin)` in this shell, or turn on "Integrate with 1Password CLI" in the 1Password app (Settings → Developer), then try again';

/** op's own words for "no usable session" across 2.x versions. */
const NOT_SIGNED_IN = [
  /not currently signed in/i,
  /account is not signed in/i,
  /no accounts configured/i,
  /could not find session token/i,
  /session (has )?expired/i,
  /signed out/i,
];

export interface OpKey {
  name: string;
  ref: string;
}

export interface ReadOptions {
  /** At most this many op processes at once. */
  limit?: number;
  /** Run the first key alone before the others (one approval prompt). */
  firstAlone?: boolean;
}

export type Outcome = Map<string, { value: string } | Error>;

export interface OpRun {
  /** Absolute path of the op binary. */
  op: string;
  env: Env;
  timeoutMs: number;
}

/** True when a failed op run says the user is not signed in. */
export function isNotSignedIn(stderr: string): boolean {
  return NOT_SIGNED_IN.some((re) => re.test(stderr));
}

/**
 * The Error for one key after a failed op run: the vault, the reference and op's
 * own line, never a value. (unlock puts the key's name in front.)
 */
export function opFailure(key: OpKey, r: ToolResult & { spawnError?: NodeJS.ErrnoException }, what: string, timeoutMs: number): Error {
  const who = `1password (${key.ref})`;
  if (r.spawnError) {
    if (r.spawnError.code === 'ENOENT') return new UserError(`1password: ${OP_NOT_INSTALLED}`);
    return new KeyrackError(`${who}: could not run op: ${r.spawnError.code ?? r.spawnError.message}`);
  }
  if (r.timedOut) return new KeyrackError(`${who}: op timed out after ${seconds(timeoutMs)} (killed); is the 1Password app waiting for approval?`);
  if (isNotSignedIn(r.stderr)) return new UserError(`1password: ${OP_SIGN_IN}`);
  if (r.code === null) return new KeyrackError(`${who}: op was killed by a signal`);
  const line = toolMessage(r.stderr);
  return new UserError(`${who}: ${what} failed${line ? `: ${line}` : ` (exit ${r.code})`}`);
}

/** Checks a value from op: valid UTF-8 (decoded by the caller) and no NUL. */
function checked(key: OpKey, value: string): { value: string } | Error {
  if (value.includes('\0')) return new UserError(`1password (${key.ref}): the value contains a NUL byte; keyrack keys must be text without NUL`);
  return { value };
}

/** The outcome of one op run for one key, and whether its failure is about op itself. */
interface Attempt {
  res: { value: string } | Error;
  /** The failed run, when the failure would be the same for every key (not installed, not signed in, hung). */
  shared?: ToolResult & { spawnError?: NodeJS.ErrnoException };
}

/** The user declined (or ignored) the 1Password app's approval prompt: asking again per key would nag. */
const DECLINED = /authorization (prompt )?(dismissed|denied|timeout|timed out)/i;

/** Failures that are about op itself, not about one reference. */
function isShared(r: ToolResult & { spawnError?: NodeJS.ErrnoException }): boolean {
  return r.spawnError?.code === 'ENOENT' || r.timedOut || (r.code !== 0 && (isNotSignedIn(r.stderr) || DECLINED.test(r.stderr)));
}

/** `op read REF`: the value is stdout minus exactly the one "\n" op adds. */
async function attemptRead(run: OpRun, key: OpKey): Promise<Attempt> {
  const r = await runTool(run.op, ['read', key.ref], { env: run.env, timeoutMs: run.timeoutMs });
  if (r.spawnError || r.timedOut || r.code !== 0) {
    return { res: opFailure(key, r, 'op read', run.timeoutMs), shared: isShared(r) ? r : undefined };
  }
  if (r.overflow) return { res: new UserError(`1password (${key.ref}): the value is larger than keyrack accepts`) };
  const text = decodeStrict(r.stdout);
  if (text === null) return { res: new UserError(`1password (${key.ref}): the value is not valid UTF-8; keyrack keys must be text`) };
  return { res: checked(key, text.endsWith('\n') ? text.slice(0, -1) : text) };
}

async function readOne(run: OpRun, key: OpKey): Promise<{ value: string } | Error> {
  return (await attemptRead(run, key)).res;
}

/**
 * `op read` for each key, at most `limit` at a time. The first key runs alone:
 * with the desktop-app integration it is the call that asks the user to approve,
 * and one prompt is better than `limit` of them. When it shows that op is not
 * signed in (or not installed, or hung), the others would fail the same way, so
 * they get that error without running op again.
 */
export async function readEach(run: OpRun, keys: OpKey[], opts: ReadOptions = {}): Promise<Outcome> {
  const { limit = 4, firstAlone = true } = opts;
  const out: Outcome = new Map();
  if (keys.length === 0) return out;
  let rest = keys;
  if (firstAlone) {
    const first = keys[0]!;
    rest = keys.slice(1);
    const a0 = await attemptRead(run, first);
    out.set(first.name, a0.res);
    if (a0.shared) {
      for (const k of rest) out.set(k.name, opFailure(k, a0.shared, 'op read', run.timeoutMs));
      return out;
    }
  }
  await pool(rest, limit, async (k) => out.set(k.name, await readOne(run, k)));
  return out;
}

/**
 * One `op inject` for all keys: a template of random delimiters around
 * `{{ ref }}` placeholders goes to stdin; the values come back between the
 * delimiters. When op fails for one reference it fails the whole template, so
 * on a failure that is not about op itself we fall back to `op read` per key
 * to say which key is wrong and still fetch the others.
 */
export async function injectAll(run: OpRun, keys: OpKey[], opts: ReadOptions = {}): Promise<Outcome> {
  if (keys.length <= 1) return readEach(run, keys, opts);
  const tag = randomBytes(16).toString('hex');
  const marks = keys.map((_, i) => `<<keyrack:${tag}:${i}>>`);
  const end = `<<keyrack:${tag}:end>>`;
  const template = keys.map((k, i) => `${marks[i]}{{ ${k.ref} }}`).join('') + end;
  const r = await runTool(run.op, ['inject'], { env: run.env, timeoutMs: run.timeoutMs, input: template });
  const out: Outcome = new Map();
  if (r.spawnError || r.timedOut || r.code !== 0) {
    if (isShared(r)) {
      for (const k of keys) out.set(k.name, opFailure(k, r, 'op inject', run.timeoutMs));
      return out;
    }
    return readEach(run, keys, opts);
  }
  const text = r.overflow ? null : decodeStrict(r.stdout);
  const values = text === null ? null : splitMarked(text, marks, end, `<<keyrack:${tag}:`);
  // Output we cannot take apart (a value that is not UTF-8, or holds a marker):
  // read each key on its own, so only the odd one fails.
  if (values === null) return readEach(run, keys, opts);
  keys.forEach((k, i) => out.set(k.name, checked(k, values[i]!)));
  return out;
}

/** The text between consecutive markers, or null when the output is not as built. */
function splitMarked(text: string, marks: string[], end: string, prefix: string): string[] | null {
  if (!text.startsWith(marks[0]!)) return null;
  const values: string[] = [];
  let at = marks[0]!.length;
  for (let i = 1; i <= marks.length; i++) {
    const m = i < marks.length ? marks[i]! : end;
    const j = text.indexOf(m, at);
    if (j === -1) return null;
    const v = text.slice(at, j);
    if (v.includes(prefix)) return null;
    values.push(v);
    at = j + m.length;
  }
  return values;
}
