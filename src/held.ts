/**
 * What the session daemon holds, as seen by the key-management commands: which
 * keys are unlocked (names only — `list` never moves a value over the socket), and
 * dropping a key whose value `set` changed or `rm` removed, so the daemon never
 * keeps serving an old value.
 */
import { messageOf } from './errors.js';
import { forHumans } from './printable.js';
import { withDaemon } from './daemon/client.js';
import type { Env } from './paths.js';

/** Names the daemon holds now; empty when no daemon runs or it cannot be asked. */
export async function heldNames(env: Env): Promise<Set<string>> {
  try {
    const status = await withDaemon(env, async (c) => (await c.request({ op: 'status' })).status);
    return new Set((status?.keys ?? []).map((k) => k.name));
  } catch (e) {
    process.stderr.write(`keyrack: could not ask the daemon (${forHumans(messageOf(e))}); showing keys as locked\n`);
    return new Set();
  }
}

/** Drops `key` from the daemon; true when it was held. A daemon that cannot be reached is only reported. */
export async function dropHeld(key: string, env: Env): Promise<boolean> {
  return (await dropHeldKeys([key], env)).includes(key);
}

/** Drops `keys` from the daemon in one request; returns those it held. */
export async function dropHeldKeys(keys: string[], env: Env): Promise<string[]> {
  if (keys.length === 0) return [];
  try {
    const removed = await withDaemon(env, async (c) => (await c.request({ op: 'lock', keys })).removed);
    return removed ?? [];
  } catch (e) {
    const names = keys.join(' ');
    process.stderr.write(`keyrack: could not drop ${names} from the daemon (${forHumans(messageOf(e))}); run keyrack lock ${names}\n`);
    return [];
  }
}
