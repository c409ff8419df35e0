/**
 * The CLI's source of held values for the engine (env/scope.ts): the session
 * daemon over its socket. The client is imported on the first ask, so an export
 * whose manifest lists only os.direct keys never loads it, let alone connects.
 */
import type { HeldGetter } from '../env/scope.js';

/** The held values among `names`; null when no daemon runs (never starts one). */
export const daemonHeld: HeldGetter = async (names, env) => (await import('./client.js')).getKeys(names, env);
