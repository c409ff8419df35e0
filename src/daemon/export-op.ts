/**
 * The daemon's side of the fast export path. Node's start alone costs more than a
 * whole direnv `cd`, so the hook's tiny native client (native/keyrack_fast.c) asks
 * the already-running daemon to do what `keyrack export` would, with the caller's
 * cwd and environment, and the store answering for held keys without a socket hop.
 * The caller passed the same kernel checks as for any `get`.
 */
import { renderExport, type Rendered } from '../commands/export.js';
import { currentDir } from '../scope.js';
import type { HeldKey } from './protocol.js';

export async function exportFor(
  req: { shell: string; cwd: string; env: Record<string, string> },
  getHeld: (names: string[]) => Record<string, HeldKey>,
): Promise<Rendered & { handed: string[] }> {
  const handed: string[] = [];
  const r = await renderExport(req.shell, req.env, currentDir(req.env, req.cwd), async (names) => {
    const got = getHeld(names);
    handed.push(...Object.keys(got));
    return got;
  });
  return { ...r, handed };
}
