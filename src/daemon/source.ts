/**
 * The CLI's source of held values for the engine (env/scope.ts): the session
 * daemon over its socket. The client is imported on the first ask, so an export
 * whose manifest lists only os.direct keys never loads it, let alone connects.
 */
import type { HeldGetter } from '../env/scope.js';
import type { Program } from './protocol.js';

/** The held values among `names`; null when no daemon runs (never starts one). */
export const daemonHeld: HeldGetter = async (names, env, purpose) =>
  (await import('./client.js')).getKeys(names, env, purpose === 'export' ? { purpose } : {});

/** For `keyrack exec` of `program`: the daemon records one exec naming it. */
export const execHeld = (program: Program): HeldGetter => async (names, env) =>
  (await import('./client.js')).getKeys(names, env, { program });
