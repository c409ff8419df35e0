/**
 * The program `exec` runs, found as execvp(3) finds it (PATH search), so the audit
 * log can name what the user ran — the same rule keyrack-fast follows
 * (native/program.c), so both exec paths report alike.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';

/** A regular file this process may execute (what execvp would run). */
export function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The path cmd resolves to, or null when nothing on PATH (or at that path) can run. */
export function resolveProgram(cmd: string, path: string | undefined): string | null {
  if (cmd === '') return null;
  if (cmd.includes('/')) return isExecutableFile(cmd) ? cmd : null;
  for (const dir of (path ?? '/bin:/usr/bin').split(':')) {
    const p = dir === '' ? cmd : join(dir, cmd);
    if (isExecutableFile(p)) return p;
  }
  return null;
}
