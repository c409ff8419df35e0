/**
 * The daemon's side of the fast export path. Node's start alone costs more than a
 * whole direnv `cd`, so the hook's tiny native client (native/keyrack_fast.c) asks
 * the already-running daemon to do what `keyrack export` would, with the caller's
 * cwd and environment, and the store answering for held keys without a socket hop.
 * The caller passed the same kernel checks as for any `get`.
 */
import { renderExport, type Rendered } from '../commands/export.js';
import { currentDir, resolveScope } from '../scope.js';
import { check } from '../commands/exec.js';
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

/**
 * The fast path of `keyrack exec`: the variables for the command when every
 * required key is there and the manifest is trusted; otherwise code 2 and the
 * client hands over to the Node CLI, which says why (and may offer to unlock).
 */
export async function execEnvFor(
  req: { cwd: string; env: Record<string, string>; keys: string[] },
  getHeld: (names: string[]) => Record<string, HeldKey>,
): Promise<{ code: number; vars: Record<string, string>; handed: string[] }> {
  const handed: string[] = [];
  try {
    const env = req.env;
    const scope = await resolveScope({ env, dir: currentDir(env, req.cwd), keys: req.keys, getHeld: async (names) => {
      const got = getHeld(names);
      handed.push(...Object.keys(got));
      return got;
    } });
    check(scope, req.keys.length > 0, env);
    return { code: 0, vars: Object.fromEntries(scope.vars), handed };
  } catch {
    return { code: 2, vars: {}, handed: [] };
  }
}
