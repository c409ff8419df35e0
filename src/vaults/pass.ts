/**
 * The pass vault (the standard unix password manager: one gpg file per entry in
 * a git repo, shared by teams through several gpg recipients). The registry
 * keeps only `--ref path/in/store`, or `path#NAME` for the value of a `NAME:
 * value` line below the first; unlock runs `pass show -- PATH`, the first entry
 * on its own (it is the one that may bring up pinentry, whose passphrase
 * gpg-agent then caches for the others), then the rest a few at a time.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { KeyrackError, UserError } from '../errors.js';
import type { Env } from '../paths.js';
import type { RegistryEntry } from '../registry.js';
import { whyUndecryptable } from './pass-gpg.js';
import { hasControl, shown, stderrTail, valueOf } from './text.js';
import { findOnPath, pool, runTool, seconds, timeoutFrom } from './tool.js';
import type { Fetched, Vault } from './vault.js';

/** The fix when pass is missing, shared with doctor. */
export const PASS_NOT_INSTALLED = 'pass is not installed — apt-get install pass (https://www.passwordstore.org)';
const DEFAULT_TIMEOUT_S = 60;
const PARALLEL = 4;

/** What a pass reference names: an entry, and maybe one of its NAME: lines. */
export interface PassRef {
  path: string;
  /** The NAME of a `NAME: value` line; absent: the first line. */
  field?: string;
}

/** Splits `path#NAME` at its last '#', or says why the reference is unusable. */
export function parsePassRef(ref: string | undefined): PassRef | string {
  if (ref === undefined || ref === '') return 'a pass key needs --ref path/in/store (or path/in/store#NAME for a "NAME: value" line)';
  if (ref.length > 1024) return 'pass reference is longer than 1024 characters';
  if (hasControl(ref)) return `pass reference ${shown(ref)} contains a control character`;
  const hash = ref.lastIndexOf('#');
  const path = hash === -1 ? ref : ref.slice(0, hash);
  const field = hash === -1 ? undefined : ref.slice(hash + 1).trim();
  if (field !== undefined && (field === '' || field.includes(':'))) return `pass reference ${shown(ref)}: after '#' comes the NAME of a "NAME: value" line (no ':')`;
  if (path === '' || path.startsWith('/') || path.endsWith('/')) return `pass reference ${shown(ref)} must be a path inside the store, like team/db (no leading or trailing '/')`;
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') return `pass reference ${shown(ref)} has an empty, '.' or '..' path segment`;
  }
  return field === undefined ? { path } : { path, field };
}

/** Where pass keeps its files: PASSWORD_STORE_DIR, else ~/.password-store (as pass reads it). */
export function storeDir(env: Env): string {
  const d = env.PASSWORD_STORE_DIR;
  if (d) return d;
  return join(env.HOME && env.HOME.startsWith('/') ? env.HOME : homedir(), '.password-store');
}

function kind(p: string): 'file' | 'dir' | null {
  try {
    const st = statSync(p);
    return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : null;
  } catch {
    return null;
  }
}

/** The value a reference selects from a decrypted entry, or why there is none. */
export function pick(text: string, ref: PassRef): { value: string } | { missing: string } {
  const lines = text.split('\n');
  if (ref.field === undefined) {
    const first = lines[0]!.replace(/\r$/, '');
    return first === '' ? { missing: 'its first line (the password) is empty' } : { value: first };
  }
  const want = ref.field.toLowerCase();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon === -1 || line.slice(0, colon).trim().toLowerCase() !== want) continue;
    const value = line.slice(colon + 1).trim();
    return value === '' ? { missing: `its "${ref.field}:" line is empty` } : { value };
  }
  return { missing: `it has no "${ref.field}: …" line after the first` };
}

interface Run { pass: string; env: Env; dir: string; timeoutMs: number }

/** `pass show` of one entry: its whole text, or the Error every key on it gets. */
async function show(run: Run, path: string): Promise<{ text: string } | Error> {
  const who = `pass (${path})`;
  const file = join(run.dir, `${path}.gpg`);
  if (kind(file) !== 'file') {
    if (kind(run.dir) !== 'dir') return new UserError(`${who}: there is no password store at ${run.dir}; create one with pass init GPG-ID (or set PASSWORD_STORE_DIR)`);
    if (kind(join(run.dir, path)) === 'dir') return new UserError(`${who}: ${path} is a folder in the password store, not an entry; name an entry inside it`);
    return new UserError(`${who}: ${path} is not in the password store (${run.dir}); add it with pass insert ${path}, or fix the reference`);
  }
  // Its own process group: on a timeout, the gpg it runs (waiting on pinentry) goes too.
  const r = await runTool(run.pass, ['show', '--', path], { env: run.env, timeoutMs: run.timeoutMs, group: true });
  if (r.spawnError) {
    return r.spawnError.code === 'ENOENT' ? new UserError(`pass: ${PASS_NOT_INSTALLED}`) : new KeyrackError(`${who}: could not run pass: ${r.spawnError.code ?? r.spawnError.message}`);
  }
  if (r.timedOut) {
    return new UserError(`${who}: pass show timed out after ${seconds(run.timeoutMs)} (killed); is gpg waiting for your key's passphrase? Run pass show ${path} once in a terminal (gpg-agent then remembers it)`);
  }
  if (r.code !== 0) {
    if (/is not in the password store/.test(r.stderr)) return new UserError(`${who}: ${path} is not in the password store; add it with pass insert ${path}`);
    if (/decryption failed|No secret key|No pinentry|Operation cancelled|Inappropriate ioctl/i.test(r.stderr)) {
      const why = await whyUndecryptable(file, run.env, run.timeoutMs);
      if (why && 'locked' in why) {
        return new UserError(`${who}: your gpg key is locked and gpg could not ask its passphrase (no pinentry); run pass show ${path} once in a terminal (or set GPG_TTY=$(tty)), then keyrack unlock again`);
      }
      if (why) {
        return new UserError(`${who}: the entry is not encrypted to any gpg key you hold (it is for ${why.recipients.join(', ')}); ask whoever shares the store to add your key (pass init -p ${path.split('/')[0]} THEIR-IDS YOUR-ID)`);
      }
    }
    const tail = stderrTail(r.stderr);
    return new UserError(`${who}: pass show failed (exit ${r.code ?? 'by signal'})${tail ? `: ${tail}` : ''}`);
  }
  if (r.overflow) return new UserError(`${who}: the entry is larger than keyrack accepts`);
  const v = valueOf(r.stdout, false);
  if ('refused' in v) return new UserError(`${who}: ${v.refused}`);
  return { text: v.value };
}

export const vault: Vault = {
  id: 'pass',

  validate(entry: RegistryEntry): string | null {
    const r = parsePassRef(entry.ref);
    return typeof r === 'string' ? r : null;
  },

  // Nothing of ours to delete: the entry belongs to the password store.
  async fetch(keys, ctx) {
    const out = new Map<string, Fetched | Error>();
    const byPath = new Map<string, Array<{ name: string; ref: PassRef }>>();
    for (const { name, entry } of keys) {
      const ref = parsePassRef(entry.ref);
      if (typeof ref === 'string') {
        out.set(name, new UserError(`pass: ${ref}; fix it with keyrack set ${name} --vault pass --ref path/in/store`));
        continue;
      }
      const list = byPath.get(ref.path) ?? [];
      list.push({ name, ref });
      byPath.set(ref.path, list);
    }
    if (byPath.size === 0) return out;
    const pass = findOnPath('pass', ctx.env);
    if (!pass) {
      for (const list of byPath.values()) for (const k of list) out.set(k.name, new UserError(`pass: ${PASS_NOT_INSTALLED}`));
      return out;
    }
    const run: Run = { pass, env: ctx.env, dir: storeDir(ctx.env), timeoutMs: timeoutFrom(ctx.env, 'KEYRACK_PASS_TIMEOUT', DEFAULT_TIMEOUT_S) };
    const settle = async ([path, list]: [string, Array<{ name: string; ref: PassRef }>]) => {
      // One decryption per entry, however many of its lines are keys.
      const got = await show(run, path);
      for (const { name, ref } of list) {
        if (got instanceof Error) { out.set(name, got); continue; }
        const v = pick(got.text, ref);
        out.set(name, 'value' in v ? { value: v.value } : new UserError(`pass (${path}): ${v.missing}`));
      }
    };
    const entries = [...byPath];
    await settle(entries[0]!);
    await pool(entries.slice(1), PARALLEL, settle);
    return out;
  },
};
