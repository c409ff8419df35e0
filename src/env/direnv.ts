/**
 * The answer for direnv's `use keyrack`: the keys the current directory's trusted
 * manifest puts in scope, computed by the same diff as every shell's (so exactly the
 * keys a hook would load), as if the shell held none of them: direnv evaluates an
 * .envrc in the environment it had before, and keeps its own record of what it set.
 * Plus what direnv must watch for the answer to change.
 */
import { dirname, join, resolve } from 'node:path';
import { messageOf } from '../errors.js';
import { generationPath, type Env } from '../paths.js';
import { renderDirenv } from '../shells/direnv.js';
import { computeExport, type ExportResult } from './diff.js';
import { findManifest, MANIFEST_FILE } from './manifest.js';
import type { Rendered } from './render.js';
import { currentDir, type ScopeSources } from './scope.js';

/**
 * Every place from `dir` up to the manifest in effect (or up to /) where a .keyrack
 * is or could appear: creating one nearer, editing or removing this one, changes
 * which keys apply.
 */
export function manifestWatch(dir: string): string[] {
  let found: string | null = null;
  try {
    found = findManifest(dir);
  } catch {
    // An unreadable directory on the way: watch every place up to /.
  }
  const out: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    const p = join(d, MANIFEST_FILE);
    out.push(p);
    if (p === found || dirname(d) === d) break;
  }
  if (found !== null && !out.includes(found)) out.push(found);
  return out;
}

/** Never throws for a failure in the diff: direnv then loads nothing from keyrack and shows why. */
export async function renderDirenvExport(env: Env, sources: ScopeSources): Promise<Rendered> {
  const dir = sources.dir ?? currentDir(env);
  const watch = [generationPath(env), ...manifestWatch(dir)];
  // What this shell's keyrack hook owns is not direnv's business.
  const fresh: Env = { ...env };
  delete fresh.KEYRACK_STATE;
  let r: ExportResult;
  try {
    r = await computeExport(fresh, { ...sources, dir });
  } catch (e) {
    return { code: 1, stdout: renderDirenv({ watch, set: [] }), stderr: `keyrack: ${messageOf(e)}\n` };
  }
  // direnv names what it exports (+A +B) itself: keyrack adds only what is missing and why.
  const stderr = r.hints.map((h) => `keyrack: ${h}\n`).join('');
  return { code: 0, stdout: renderDirenv({ watch, set: r.changes.set }), stderr };
}
