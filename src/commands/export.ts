/**
 * `keyrack export bash|zsh|fish|json`: the changes that bring this shell's
 * environment in line with the current directory, as code to eval. Run by the hook
 * only when the manifest or the generation changed.
 *
 * stdout carries only code; every message is one short line on stderr, printed
 * only when something changed. Never prompts. On an internal error it says so and
 * prints no code, so the shell stays exactly as it was.
 */
import { createHash } from 'node:crypto';
import { UserError, messageOf } from '../errors.js';
import { fingerprint, fingerprintKey } from '../fingerprint.js';
import { ManifestError } from '../manifest.js';
import { printable } from '../printable.js';
import type { Env } from '../paths.js';
import { resolveScope, type Scope, type ScopeSources } from '../scope.js';
import { formatState, parseState, type Owned } from '../shellstate.js';
import { EXPORT_SHELLS } from '../shells/index.js';
import type { Changes } from '../shells/shell.js';

const MAX_LISTED = 8;

function counts(added: number, updated: number, removed: number): string {
  return [added && `+${added}`, updated && `~${updated}`, removed && `-${removed}`].filter(Boolean).join(' ');
}

export interface ExportResult {
  changes: Changes;
  /** The stderr line (without "keyrack: "), or '' for silence. */
  message: string;
}

/** The hints about what could not be loaded, or [] when all is well. */
function notices(scope: Scope | null, manifestError: string | null): string[] {
  if (manifestError) return [manifestError];
  if (!scope) return [];
  if (scope.trust === 'untrusted') return ['.keyrack is not allowed — run keyrack allow'];
  if (scope.trust === 'denied') return ['.keyrack is denied — keyrack allow to use it'];
  const out: string[] = [];
  const { locked, absent } = scope;
  if (locked.length === 1) out.push(`${locked[0]} locked — run keyrack unlock`);
  else if (locked.length > 1) out.push(`${locked.length} keys locked (${locked.join(', ')}) — run keyrack unlock`);
  if (absent.length) {
    out.push(`${absent.length === 1 ? absent[0] : `${absent.length} keys`} not set up${absent.length > 1 ? ` (${absent.join(', ')})` : ''} — run keyrack set ${absent.length === 1 ? absent[0] : 'KEY'}`);
  }
  out.push(...scope.problems);
  return out;
}

/** The changes for a shell with environment `env` (in `sources.dir`, default the shell's $PWD). */
export async function computeExport(env: Env, sources: ScopeSources = {}): Promise<ExportResult> {
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
  const desired = scope?.vars ?? new Map<string, string>();

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
  return { changes, message: parts.join('; ') };
}

export interface Rendered {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The whole answer of `export SHELL`: what to print where, and the exit code. Used
 * by the CLI and by the daemon's `export` op (the fast path, see native/keyrack_fast.c).
 */
export async function renderExport(shellName: string, env: Env, sources: ScopeSources = {}): Promise<Rendered> {
  const shell = EXPORT_SHELLS[shellName];
  if (!shell) throw new UserError(`unknown shell '${shellName}' for export (bash, zsh, fish or json)`);
  let r: ExportResult;
  try {
    r = await computeExport(env, sources);
  } catch (e) {
    // Never break the prompt: say what failed and leave the shell as it is.
    const msg = printable(messageOf(e));
    return { code: 1, stdout: shellName === 'json' ? JSON.stringify({ error: msg }) + '\n' : '', stderr: `keyrack: ${msg}\n` };
  }
  // Paths and names in the message come from directories anyone can name: escaped here,
  // the one place every export's stderr (CLI, fallback bundle, daemon) is made.
  return { code: 0, stdout: shell.render(r.changes), stderr: r.message ? `keyrack: ${printable(r.message)}\n` : '' };
}

export async function run(shellName: string): Promise<number | void> {
  const r = await renderExport(shellName, process.env);
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  return r.code;
}
