/**
 * The daemon's side of the native fast paths (keyrack-fast, native/). Node's start
 * alone costs more than a whole direnv `cd`, so the hook's client asks the
 * already-running daemon to do what `keyrack export` would, and the `keyrack`
 * launcher asks it for `exec`'s variables — with the caller's cwd and environment,
 * and the store answering for held keys without a socket hop. The caller passed
 * the same kernel checks as for any `get`. The work is the engine's (src/env/).
 */
import { UserError } from '../errors.js';
import { getOutput } from '../env/getkey.js';
import { assertReady } from '../env/readiness.js';
import { renderExport } from '../env/render.js';
import { currentDir, resolveScope, type ScopeSources } from '../env/scope.js';
import type { Env } from '../paths.js';
import { readRegistry } from '../registry.js';
import type { HeldKey } from '../secret.js';
import type { AuditOp } from './audit.js';
import type { Replies, RequestOf } from './protocol.js';

type FastOp = 'export' | 'exec-env' | 'cli-get';

/** What the answer carries, and what the audit log must record before it leaves. */
export interface FastAnswer<O extends FastOp> {
  /** What the audit log calls it, and the keys whose values the answer may carry. */
  audit: AuditOp;
  handed: string[];
  fields: Replies[O];
}

type StoreGet = (names: string[]) => Record<string, HeldKey>;

/** Answers one fast-path request, with the store as the source of held values. */
export function answerFast(req: RequestOf<'export'>, getHeld: StoreGet): Promise<FastAnswer<'export'>>;
export function answerFast(req: RequestOf<'exec-env'>, getHeld: StoreGet): Promise<FastAnswer<'exec-env'>>;
export function answerFast(req: RequestOf<'cli-get'>, getHeld: StoreGet): Promise<FastAnswer<'cli-get'>>;
export function answerFast<O extends FastOp>(req: RequestOf<O>, getHeld: StoreGet): Promise<FastAnswer<O>>;
export function answerFast(req: RequestOf<FastOp>, getHeld: StoreGet): Promise<FastAnswer<FastOp>> {
  const handed: string[] = [];
  // export: the store itself never answers for an exec-only key (the engine never asks for one either).
  const held: StoreGet = req.op === 'export' ? withoutExecOnly(getHeld, req.env) : getHeld;
  const sources: ScopeSources = {
    dir: currentDir(req.env, req.cwd),
    getHeld: async (names) => {
      const got = held(names);
      handed.push(...Object.keys(got));
      return got;
    },
    // os.direct values are read from their file, not the store: handed out all the same.
    onDirect: (keys) => handed.push(...keys),
  };
  if (req.op === 'cli-get') return getAnswer(req, sources, handed);
  return req.op === 'export' ? exportAnswer(req, sources, handed) : execAnswer(req, sources, handed);
}

/**
 * The store, minus every key the user marked exec-only (the registry as the caller's
 * environment names it). The cached parse (registry.ts readRegistry), as the engine
 * reads it in the same request: a fresh parse of 10,000 keys was 20 ms per export.
 * Read when the store is asked, not before: an os.direct-only manifest never asks.
 */
function withoutExecOnly(getHeld: StoreGet, env: Env): StoreGet {
  return (names) => {
    const keys = readRegistry(env).keys;
    return getHeld(names.filter((n) => !keys[n]?.execOnly));
  };
}

/** get: the engine's output (src/env/getkey.ts); a refusal is code 2, and the Node CLI says why. */
async function getAnswer(req: RequestOf<'cli-get'>, sources: ScopeSources, handed: string[]): Promise<FastAnswer<'cli-get'>> {
  try {
    const stdout = await getOutput(req.key, req.env, sources.getHeld, sources.onDirect);
    return { audit: 'get', handed, fields: { code: 0, stdout } };
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return { audit: 'get', handed: [], fields: { code: 2, stdout: '' } };
  }
}

async function exportAnswer(req: RequestOf<'export'>, sources: ScopeSources, handed: string[]): Promise<FastAnswer<'export'>> {
  return { audit: 'export', handed, fields: await renderExport(req.shell, req.env, sources) };
}

/**
 * exec: the variables when every required key is there and the manifest is
 * trusted. A refusal the user must act on (locked, untrusted, absent: a UserError)
 * is code 2 and hands nothing out: the client hands over to the Node CLI, which
 * says why (and may offer to unlock). Anything else is a bug: it rejects, and the
 * server logs it and answers an error (the client falls back all the same).
 */
async function execAnswer(req: RequestOf<'exec-env'>, sources: ScopeSources, handed: string[]): Promise<FastAnswer<'exec-env'>> {
  try {
    const scope = await resolveScope({ env: req.env, keys: req.keys, ...sources, purpose: 'exec' });
    assertReady(scope, req.keys.length > 0, req.env);
    return { audit: 'exec', handed, fields: { code: 0, vars: Object.fromEntries(scope.vars) } };
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return { audit: 'exec', handed: [], fields: { code: 2, vars: {} } };
  }
}
