/**
 * The daemon's side of the native fast paths (native/keyrack_fast.c). Node's start
 * alone costs more than a whole direnv `cd`, so the hook's client asks the
 * already-running daemon to do what `keyrack export` would, and the `keyrack`
 * launcher asks it for `exec`'s variables — with the caller's cwd and environment,
 * and the store answering for held keys without a socket hop. The caller passed
 * the same kernel checks as for any `get`.
 */
import { renderExport } from '../commands/export.js';
import { check } from '../commands/exec.js';
import { currentDir, resolveScope, type HeldGetter } from '../env/scope.js';
import type { AuditOp } from './audit.js';
import type { HeldKey } from '../secret.js';
import type { Request, Response } from './protocol.js';

type FastRequest = Extract<Request, { op: 'export' | 'exec-env' }>;

export interface FastAnswer {
  /** What the audit log calls it, and the keys whose values the answer may carry. */
  audit: AuditOp;
  handed: string[];
  fields: Omit<Extract<Response, { ok: true }>, 'id' | 'ok'>;
}

export async function answerFast(req: FastRequest, getHeld: (names: string[]) => Record<string, HeldKey>): Promise<FastAnswer> {
  const handed: string[] = [];
  const get: HeldGetter = async (names) => {
    const got = getHeld(names);
    handed.push(...Object.keys(got));
    return got;
  };
  // os.direct values are read from their file, not the store: handed out all the same.
  const onDirect = (keys: string[]) => handed.push(...keys);
  const dir = currentDir(req.env, req.cwd);
  if (req.op === 'export') {
    const r = await renderExport(req.shell, req.env, { dir, getHeld: get, onDirect });
    return { audit: 'export', handed, fields: r };
  }
  // exec: the variables when every required key is there and the manifest is
  // trusted; otherwise code 2, and the client hands over to the Node CLI, which
  // says why (and may offer to unlock). A refusal hands nothing out.
  try {
    const scope = await resolveScope({ env: req.env, dir, keys: req.keys, getHeld: get, onDirect });
    check(scope, req.keys.length > 0, req.env);
    return { audit: 'exec', handed, fields: { code: 0, vars: Object.fromEntries(scope.vars) } };
  } catch {
    return { audit: 'exec', handed: [], fields: { code: 2, vars: {} } };
  }
}
