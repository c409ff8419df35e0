/**
 * The env diff: what must change in a shell (its environment and KEYRACK_STATE)
 * for it to hold exactly the scope of its directory. Unsets only what keyrack set
 * and the user left alone, restores what the shell had before, and sums the
 * change up in one short line. Knows no shell syntax (src/shells/ renders it).
 */
import { createHash } from 'node:crypto';
import type { Env } from '../paths.js';
import type { Changes } from '../shells/shell.js';
import { fingerprint, fingerprintKey } from './fingerprint.js';
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
}

/**
 * The variables a shell may hold: every hook and direnv's `use keyrack` load
 * exactly these. The one place where keys that must never reach a shell (issue 14's
 * exec-only keys) are to be left out.
 */
export function shellVars(scope: Scope | null): Map<string, string> {
  return scope?.vars ?? new Map<string, string>();
}

/** The changes for a shell with environment `env` (in `sources.dir`, default the shell's $PWD). */
export async function computeExport(env: Env, sources: ScopeSources): Promise<ExportResult> {
  const prior = parseState(env.KEYRACK_STATE);
  let scope: Scope | null = null;
  let manifestError: string | null = null;
  try {
    scope = await resolveScope({ env, ...sources });
  } catch (e) {
    // A manifest that no longer parses was edited, so it is no longer trusted:
    // unload, and say where it is broken. Anything else is our failure.
    if (!(e instanceof ManifestError)) throw e;
    manifestError = e.message;
  }
  const desired = shellVars(scope);

  let key: Buffer | undefined;
  const fp = (name: string, value: string) => fingerprint((key ??= fingerprintKey(env)), name, value);

  const changes: Changes = { save: [], set: [], unset: [], forget: [], state: '', stateChanged: false };
  const added: string[] = [];
  const removed: string[] = [];
  const updated: string[] = [];
  const owned = new Map<string, Owned>();

  for (const [name, o] of prior.owned) {
    if (desired.has(name)) continue;
    const cur = env[name];
    if (cur !== undefined && fp(name, cur) === o.fp) {
      changes.unset.push(name);
      removed.push(name);
    } else {
      // Changed or unset by hand since: the user's now, not ours to remove.
      changes.forget.push(name);
    }
  }
  for (const [name, value] of desired) {
    const o = prior.owned.get(name);
    const f = fp(name, value);
    if (o) {
      // Same value as we set last time: leave it, even if the user changed it since.
      if (o.fp === f) {
        owned.set(name, o);
        continue;
      }
      changes.set.push([name, value]);
      owned.set(name, { fp: f, prev: o.prev });
      updated.push(name);
    } else {
      changes.save.push(name);
      changes.set.push([name, value]);
      owned.set(name, { fp: f, prev: env[name] !== undefined });
      added.push(name);
    }
  }

  const hints = notices(scope, manifestError);
  const where = scope?.manifest?.path ?? '';
  const tag = hints.length ? createHash('sha256').update(`${where}\n${hints.join('\n')}`).digest('hex').slice(0, 8) : '';
  const next = formatState({ owned, notice: tag });
  changes.state = next;
  changes.stateChanged = next !== (env.KEYRACK_STATE ?? '');

  const parts: string[] = [];
  const diff = [...added.map((n) => `+${n}`), ...updated.map((n) => `~${n}`), ...removed.map((n) => `-${n}`)];
  // One short line: a project with many keys is summed up after the first few.
  if (diff.length > MAX_LISTED + 1) parts.push(`${diff.slice(0, MAX_LISTED).join(' ')} … (${counts(added.length, updated.length, removed.length)})`);
  else if (diff.length) parts.push(diff.join(' '));
  if (tag && tag !== prior.notice) parts.push(...hints);
  return { changes, message: parts.join('; '), hints };
}
