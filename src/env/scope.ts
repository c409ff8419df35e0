/**
 * Which variables the current directory (or an explicit --key list) puts in scope,
 * and their values: shared by `export` (every cd) and `exec`.
 *
 *   manifest (must be trusted) → host registry, else the team file beside the
 *   manifest (env/team-scope.ts) → values: os.direct read directly, everything
 *   else (team values too, as unlock put them) from the session daemon in one round trip.
 *
 * Never prompts and never starts the daemon. Problems are collected, not thrown,
 * so `export` can still set what is available; only a broken manifest throws.
 */
import { statSync } from 'node:fs';
import { ManifestError, loadManifest, parseManifest, type Manifest, type ManifestEntry } from './manifest.js';
import { envNameProblem } from './names.js';
import type { Env } from '../paths.js';
import { readRegistry } from '../registry.js';
import { trustOf, type Trust } from './trust.js';
import { UserError } from '../errors.js';
import { sizeProblem } from '../limits.js';
import { TeamFileError } from '../team/file.js';
import { teamSourceOrError, teamVarProblem, type TeamSource } from './team-scope.js';
import type { HeldKey } from '../secret.js';
import { closest } from '../suggest.js';
import { lazy } from '../lazy.js';

/** The os.direct vault, loaded when a manifest first names one of its keys (the CLI's start stays small). */
export const directVault = lazy(() => import('../vaults/direct.js'));

export interface Scope {
  /** The manifest in effect; null with --key or when there is none. */
  manifest: Manifest | null;
  /** Its trust; null when no manifest is involved. */
  trust: Trust | null;
  /** Variables to set, in manifest order. */
  vars: Map<string, string>;
  /** Required keys that are not unlocked (names of registry keys). */
  locked: string[];
  /** Required keys that are not in the registry, or have no os.direct value. */
  absent: string[];
  /** For an absent key named like a registered one (a typo): that one, for "did you mean". */
  near: Map<string, string>;
  /** Entries that cannot be honoured, one short reason each (no values). */
  problems: string[];
  /** export only: the variables of exec-only keys, left out (their values never fetched). */
  execOnly: string[];
}

/**
 * Who the scope is for. `export` (the default, the stricter) leaves exec-only keys
 * out without fetching them; `exec` (and get) hands them out.
 */
export type Purpose = 'export' | 'exec';

/**
 * The directory the user is in: the shell's logical $PWD when it names the same
 * directory as our cwd (so the manifest walk matches the hook's, through
 * symlinked directories), else the physical cwd.
 */
export function currentDir(env: Env, physical?: string): string {
  const pwd = env.PWD;
  let cwd: string;
  try {
    cwd = physical ?? process.cwd();
  } catch {
    // The directory was removed under the shell: go by the name it had.
    return pwd && pwd.startsWith('/') ? pwd : '/';
  }
  if (pwd && pwd.startsWith('/') && pwd !== cwd) {
    try {
      const a = statSync(pwd);
      const b = statSync(cwd);
      if (a.dev === b.dev && a.ino === b.ino) return pwd;
    } catch {
      // a stale $PWD: use the real cwd
    }
  }
  return cwd;
}

/**
 * Entries for `exec --key K`: each K in manifest syntax (NAME, NAME?, NAME = key),
 * under the manifest's rules, aliases included. Like a manifest line, K is never
 * echoed beyond its name: someone may have typed a value there.
 */
export function entriesFromKeys(keys: string[]): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  const seen = new Set<string>();
  for (const k of keys) {
    let m: Manifest;
    try {
      m = parseManifest('--key', k);
    } catch (e) {
      if (e instanceof ManifestError) throw new UserError(`--key: ${e.reason}`);
      throw e;
    }
    const e = m.entries[0];
    if (!e || m.entries.length !== 1) throw new UserError('--key: expected one NAME, NAME? or NAME=key');
    if (seen.has(e.env)) throw new UserError(`--key ${e.env} is given twice`);
    seen.add(e.env);
    out.push(e);
  }
  return out;
}

const empty = (manifest: Manifest | null, trust: Trust | null): Scope => ({
  manifest, trust, vars: new Map(), locked: [], absent: [], near: new Map(), problems: [], execOnly: [],
});

/** Fetches held values by key name; null when there is no daemon. */
export type HeldGetter = (names: string[], env: Env, purpose: Purpose) => Promise<Record<string, HeldKey> | null>;

/**
 * Where a scope is resolved from, handed in by the caller: the engine never reaches
 * up into the daemon. `dir` defaults to the shell's $PWD.
 */
export interface ScopeSources {
  dir?: string;
  /** The CLI: the daemon over its socket (daemon/source.ts); inside the daemon: its store, without a socket hop. */
  getHeld: HeldGetter;
  /** Told the os.direct keys whose values were read (the daemon's audit log records them). */
  onDirect?: (keys: string[]) => void;
  /** Default 'export': exec-only keys are left out. */
  purpose?: Purpose;
}

export async function resolveScope(opts: { env: Env; keys?: string[] } & ScopeSources): Promise<Scope> {
  const { env } = opts;
  let entries: ManifestEntry[];
  let scope: Scope;
  if (opts.keys && opts.keys.length > 0) {
    entries = entriesFromKeys(opts.keys);
    scope = empty(null, null);
  } else {
    const manifest = loadManifest(opts.dir ?? currentDir(env));
    if (!manifest) return empty(null, null);
    const trust = trustOf(manifest, env);
    if (trust !== 'allowed') return empty(manifest, trust);
    entries = manifest.entries;
    scope = empty(manifest, trust);
  }
  await fillValues(scope, entries, env, opts);
  return scope;
}

async function fillValues(scope: Scope, entries: ManifestEntry[], env: Env, { getHeld, onDirect, purpose }: ScopeSources): Promise<void> {
  const registry = readRegistry(env);
  const direct: ManifestEntry[] = [];
  const held: ManifestEntry[] = [];
  const wanted: ManifestEntry[] = [];
  // The team file beside the manifest, read only when a name is not in the registry.
  let team: TeamSource | TeamFileError | null | undefined;
  const teamOf = () => (team ??= scope.manifest ? teamSourceOrError(scope.manifest) : null);
  /** The daemon's name for a held entry when it is not the key's own: a team value's. */
  const heldAs = new Map<ManifestEntry, string>();
  for (const e of entries) {
    const reg = registry.keys[e.key];
    // Either mark suffices: the user's (registry) or the project's (manifest line), for a team key too.
    if ((purpose ?? 'export') === 'export' && (reg?.execOnly || e.execOnly)) {
      scope.execOnly.push(e.env);
      continue;
    }
    if (!reg) {
      const t = teamOf();
      if (t && !(t instanceof TeamFileError) && t.file.values.has(e.key)) {
        const p = teamVarProblem(e.env, e.key);
        if (p) scope.problems.push(p);
        else {
          heldAs.set(e, t.storeName(e.key));
          held.push(e);
          wanted.push(e);
        }
      } else if (!e.optional && !(t instanceof TeamFileError)) {
        scope.absent.push(e.key);
        const near = closest(e.key, Object.keys(registry.keys));
        if (near !== undefined) scope.near.set(e.key, near);
      }
      continue;
    }
    if (reg.vault === 'aws.sso' && e.env !== e.key) {
      scope.problems.push(aliasProblem(e));
      continue;
    }
    wanted.push(e);
    (reg.vault === 'os.direct' ? direct : held).push(e);
  }
  // A broken team file (a merge conflict, a bad recipient) is said once; its keys are neither set nor called absent.
  if (team instanceof TeamFileError) scope.problems.push(team.message);

  const values = new Map<ManifestEntry, string | Record<string, string>>();
  if (direct.length) {
    const { readDirect } = await directVault();
    const got = readDirect(direct.map((e) => e.key), env);
    const handed = new Set<string>();
    for (const e of direct) {
      const v = got.get(e.key);
      // A value stored before the limit (or by hand) must not reach the shell: it breaks every exec.
      const tooLarge = v === undefined ? null : sizeProblem(v);
      if (tooLarge) scope.problems.push(`${e.key}: ${tooLarge} — not set; keyrack set ${e.key} --vault os.direct with a smaller value`);
      else if (v !== undefined) {
        values.set(e, v);
        handed.add(e.key);
      } else if (!e.optional) scope.absent.push(e.key);
    }
    onDirect?.([...handed]);
  }
  if (held.length) {
    // Asked only when needed: a manifest of os.direct keys never opens a socket.
    const nameOf = (e: ManifestEntry) => heldAs.get(e) ?? e.key;
    const got = await getHeld([...new Set(held.map(nameOf))], env, purpose ?? 'export');
    for (const e of held) {
      const h = got?.[nameOf(e)];
      if (h === undefined) {
        if (!e.optional) scope.locked.push(e.key);
      } else if ('value' in h) {
        values.set(e, h.value);
      } else if (e.env !== e.key) {
        scope.problems.push(aliasProblem(e));
      } else {
        values.set(e, h.env);
      }
    }
  }

  // In manifest order; a variable set twice (two aws.sso keys) keeps the first.
  const from = new Map<string, string>();
  const put = (name: string, value: string, key: string) => {
    const other = from.get(name);
    if (other !== undefined) {
      scope.problems.push(`${name} is set by both ${other} and ${key}; using ${other}`);
      return;
    }
    from.set(name, key);
    scope.vars.set(name, value);
  };
  for (const e of wanted) {
    const v = values.get(e);
    if (v === undefined) continue;
    if (typeof v === 'string') {
      put(e.env, v, e.key);
      continue;
    }
    for (const [name, value] of Object.entries(v)) {
      const p = envNameProblem(name); // __keyrack* (our own shell variables) is on the deny-list
      if (p) scope.problems.push(`${e.key}: ${p}`);
      else put(name, value, e.key);
    }
  }
}

function aliasProblem(e: ManifestEntry): string {
  return `${e.env} = ${e.key}: ${e.key} sets several variables (AWS_ACCESS_KEY_ID, …), so it cannot be renamed; list it as ${e.key}`;
}
