/**
 * The whole answer of `export SHELL`: the diff rendered for one shell, what to
 * print where, and the exit code. One function for both who answer it, the CLI
 * and the daemon's `export` op (the fast path, see native/keyrack_fast.c), so the
 * two can never print different things.
 */
import { UserError, messageOf } from '../errors.js';
import type { Env } from '../paths.js';
import { forHumans, printable } from '../printable.js';
import { EXPORT_SHELLS } from '../shells/index.js';
import { computeExport, type ExportResult } from './diff.js';
import { renderDirenvExport } from './direnv.js';
import type { ScopeSources } from './scope.js';

/** What `export` speaks: the shells, json, and direnv (for `use keyrack`). */
export const EXPORT_TARGETS = [...Object.keys(EXPORT_SHELLS), 'direnv'];

/** What `keyrack export` exits with and prints. */
export interface Rendered {
  code: number;
  stdout: string;
  stderr: string;
}

/** Never throws for a failure in the diff: the prompt must not break, so it becomes code 1 and no code for the shell. */
export async function renderExport(shellName: string, env: Env, sources: ScopeSources): Promise<Rendered> {
  if (shellName === 'direnv') return renderDirenvExport(env, sources);
  const shell = EXPORT_SHELLS[shellName];
  if (!shell) throw new UserError(`unknown shell '${shellName}' for export (${EXPORT_TARGETS.join(', ')})`);
  let r: ExportResult;
  try {
    r = await computeExport(env, sources);
  } catch (e) {
    // Never break the prompt: say what failed and leave the shell as it is.
    const msg = messageOf(e);
    return { code: 1, stdout: shellName === 'json' ? JSON.stringify({ error: printable(msg) }) + '\n' : '', stderr: `keyrack: ${forHumans(msg, env)}\n` };
  }
  // Paths and names in the message come from directories anyone can name: escaped here,
  // the one place every export's stderr (CLI, fallback bundle, daemon) is made.
  return { code: r.code, stdout: shell.render(r.changes), stderr: r.message ? `keyrack: ${forHumans(r.message, env)}\n` : '' };
}
