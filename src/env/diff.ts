/**
 * The env diff: what must change in a shell (its environment and KEYRACK_STATE)
 * for it to hold exactly the scope of its directory. Unsets only what keyrack set
 * and the user left alone, restores what the shell had before, and sums the
 * change up in one short line. Knows no shell syntax (src/shells/ renders it).
 *
 * Its security property: whatever of its state is lost or unreadable (the
 * fingerprint key removed or broken, KEYRACK_STATE edited, the registry or the
 * daemon failing), what keyrack set and is no longer in scope is removed — checked
 * for a change by hand when the fingerprints can be checked, removed anyway when
 * they cannot — and the line says so; what it cannot name, it says it lost.
 */
import { createHash } from 'node:crypto';
import { exitCodeOf, messageOf } from '../errors.js';
import { files, type Env } from '../paths.js';
import type { Changes } from '../shells/shell.js';
import { fingerprint, fingerprintKey, keyId } from './fingerprint.js';
import { ManifestError } from './manifest.js';
import { notices } from './readiness.js';
import { resolveScope, type Scope, type ScopeSources } from './scope.js';
import { formatState, parseState, type Owned } from './shellstate.js';

const MAX_LISTED = 8;

function counts(added: number, updated: number, removed: number): string {
  return [added && `+${added}`, updated && `~${updated}`, removed && `-${removed}`].filter(Boolean).join(' ');
}

/** The changes, and what to tell the user about them. */
export interface ExportResult {
  changes: Changes;
  /** The stderr line (without "keyrack: "), or '' for silence. */
  message: string;
  /** What could not be loaded and why, every time (the message says each once). */
  hints: string[];
  /** 0, or the exit code of a failure that left this directory's keys unknown (its keys were unloaded). */
  code: number;
}

/**
 * The variables a shell may hold: every hook and direnv's `use keyrack` load
 * exactly these. The one place where keys that must never reach a shell (issue 14's
 * exec-only keys) are to be left out.
 */
export function shellVars(scope: Scope | null): Map<string, string> {
  return scope?.vars ?? new Map<string, string>();
}

/** A notice's tag in KEYRACK_STATE: the same notice in the same place is said once. */
const tagOf = (where: string, hint: string): string => createHash('sha256').update(`${where}\n${hint}`).digest('hex').slice(0, 8);

/** The changes for a shell with environment `env` (in `sources.dir`, default the shell's $PWD). */
export async function computeExport(env: Env, sources: ScopeSources): Promise<ExportResult> {
  const prior = parseState(env.KEYRACK_STATE);
  let scope: Scope | null = null;
  let manifestError: string | null = null;
  let failure: unknown;
  try {
    scope = await resolveScope({ env, ...sources });
  } catch (e) {
    // A manifest that no longer parses was edited, so it is no longer trusted:
    // unload, and say where it is broken. Anything else (a broken registry, a
    // daemon that fails) leaves this directory's keys unknown: unload all the same.
    if (e instanceof ManifestError) manifestError = e.message;
    else failure = e;
  }
  const warnings: string[] = [];
  if (failure !== undefined) warnings.push(`${messageOf(failure)} — so this directory's keys are not loaded`);

  let desired = shellVars(scope);
  // The key is read only when there is something to fingerprint or check.
  let key: Buffer | null = null;
  let keyProblem = '';
  if (desired.size > 0 || prior.owned.size > 0) {
    try {
      key = fingerprintKey(env);
    } catch (e) {
      keyProblem = messageOf(e);
    }
  }
  if (key === null && keyProblem) {
    // Nothing can be recorded without a fingerprint: set nothing, remove what is ours.
    if (desired.size > 0) warnings.push(`${keyProblem} — nothing loaded`);
    desired = new Map();
  }
  // Fingerprints made by another key (the data dir was removed, a restore) cannot be checked.
  const replaced = key !== null && prior.keyId !== '' && prior.keyId !== keyId(key);
  const checkable = key !== null && !replaced;
  const fp = (name: string, value: string) => fingerprint(key!, name, value);

  const changes: Changes = { save: [], set: [], unset: [], forget: [], state: '', stateChanged: false };
  const added: string[] = [];
  const removed: string[] = [];
  const updated: string[] = [];
  /** Removed although no fingerprint could tell whether the user changed them since. */
  const unchecked: string[] = [];
  const owned = new Map<string, Owned>();
  const drop = (name: string, ours: boolean) => {
    if (env[name] !== undefined && ours) {
      changes.unset.push(name);
      removed.push(name);
    } else {
      // Changed or unset by hand since: the user's now, not ours to remove.
      changes.forget.push(name);
    }
  };
  for (const [name, o] of prior.owned) {
    if (desired.has(name)) continue;
    const cur = env[name];
    if (checkable) drop(name, cur !== undefined && fp(name, cur) === o.fp);
    else {
      drop(name, true);
      if (cur !== undefined) unchecked.push(name);
    }
  }
  // Named in the state without a readable fingerprint (edited by hand): keyrack set them.
  for (const name of prior.unverified) {
    if (desired.has(name) || prior.owned.has(name)) continue;
    drop(name, true);
    if (env[name] !== undefined) unchecked.push(name);
  }
  for (const [name, value] of desired) {
    const o = prior.owned.get(name);
    const f = fp(name, value);
    const cur = env[name];
    if (o && (o.fp === f || (!checkable && cur === value))) {
      // Same value as we set last time: leave it, even if the user changed it since.
      // (After a key change it is recorded again under the new key, unchanged.)
      owned.set(name, { fp: f, prev: o.prev });
      continue;
    }
    if (o) {
      changes.set.push([name, value]);
      owned.set(name, { fp: f, prev: o.prev });
      updated.push(name);
      continue;
    }
    changes.set.push([name, value]);
    added.push(name);
    if (cur === value) {
      // Already this value though keyrack owns nothing: its own, left by a lost state.
      // Not saved as the shell's own value, so leaving removes it.
      changes.forget.push(name);
      owned.set(name, { fp: f, prev: false });
    } else {
      changes.save.push(name);
      owned.set(name, { fp: f, prev: cur !== undefined });
    }
  }

  if (unchecked.length > 0) {
    const why = key === null
      ? `${keyProblem} — removed ${unchecked.join(' ')} without checking`
      : `the fingerprint key ${files.fingerprintKey(env)} was replaced since keyrack set ${unchecked.join(' ')}: removed ${unchecked.length === 1 ? 'it' : 'them'} without checking`;
    warnings.push(`${why} for a change by hand`);
  } else if (keyProblem && !warnings.some((w) => w.startsWith(keyProblem))) {
    warnings.push(keyProblem);
  }
  if (prior.unreadable > 0) {
    warnings.push(`KEYRACK_STATE has ${prior.unreadable === 1 ? 'an unreadable entry' : `${prior.unreadable} unreadable entries`}: ` +
      'keyrack cannot tell all it set in this shell — check env, or open a new shell');
  }

  const hints = notices(scope, manifestError);
  const where = scope?.manifest?.path ?? '';
  const tags = hints.map((h) => tagOf(where, h));
  const next = formatState({ owned, notices: tags, keyId: key ? keyId(key) : '' });
  changes.state = next;
  changes.stateChanged = next !== (env.KEYRACK_STATE ?? '');
  const parts: string[] = [];
  const diff = [...added.map((n) => `+${n}`), ...updated.map((n) => `~${n}`), ...removed.map((n) => `-${n}`)];
  // One short line: a project with many keys is summed up after the first few.
  if (diff.length > MAX_LISTED + 1) parts.push(`${diff.slice(0, MAX_LISTED).join(' ')} … (${counts(added.length, updated.length, removed.length)})`);
  else if (diff.length) parts.push(diff.join(' '));
  parts.push(...warnings);
  // Each hint once: one said before (same tag) is not said again while it holds.
  hints.forEach((h, i) => {
    if (!prior.notices.includes(tags[i]!)) parts.push(h);
  });
  return { changes, message: parts.join('; '), hints, code: failure === undefined ? 0 : exitCodeOf(failure) };
}
