/**
 * libsecret's `secret-tool`, the one client every Secret Service speaks to
 * (GNOME Keyring, KeePassXC, KWallet): attributes in argv after `--`, a secret
 * only ever on stdin (store) or stdout (lookup). Its failures say little (a
 * locked item and a missing one both exit 1 in silence), so a failed lookup asks
 * `search` whether the item exists but is locked.
 */
import { KeyrackError, UserError } from '../errors.js';
import type { Env } from '../paths.js';
import { hasControl, shown, stderrTail, valueOf } from './text.js';
import { findOnPath, runTool, seconds, type ToolResult } from './tool.js';

/** The fix when secret-tool is missing, shared with doctor. */
export const SECRET_TOOL_NOT_INSTALLED = 'secret-tool is not installed — apt-get install libsecret-tools';
const MAX_ATTRS = 16;

/** A Secret Service item's attributes, in the order given (secret-tool takes them as pairs). */
export type Attrs = Array<[string, string]>;

/** No Secret Service can be reached at all: the same answer for every key. */
export class KeyringUnreachable extends UserError {}

/** `attr=value[,attr=value]` → pairs, or why it is unusable. */
export function parseAttrs(ref: string | undefined): Attrs | string {
  if (ref === undefined || ref === '') return 'a keyring key needs --ref attr=value[,attr=value] (the attributes of a Secret Service item)';
  if (ref.length > 1024) return 'keyring reference is longer than 1024 characters';
  if (hasControl(ref)) return `keyring reference ${shown(ref)} contains a control character`;
  const attrs: Attrs = [];
  for (const part of ref.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) return `keyring reference ${shown(ref)}: each part must be attr=value, with neither empty`;
    const attr = part.slice(0, eq);
    if (/\s/.test(attr)) return `keyring reference ${shown(ref)}: attribute name ${shown(attr)} contains whitespace`;
    if (attrs.some(([a]) => a === attr)) return `keyring reference ${shown(ref)} names attribute ${shown(attr)} twice`;
    attrs.push([attr, part.slice(eq + 1)]);
  }
  if (attrs.length > MAX_ATTRS) return `keyring reference has more than ${MAX_ATTRS} attributes`;
  return attrs;
}

/** Attributes as the reference writes them, for messages. */
export const attrsText = (attrs: Attrs): string => attrs.map(([a, v]) => `${a}=${v}`).join(',');
const argvOf = (attrs: Attrs): string[] => ['--', ...attrs.flat()];

/** The secret-tool on PATH, or null. */
export function secretTool(env: Env): string | null {
  return findOnPath('secret-tool', env);
}

/** The failures that are about reaching a Secret Service at all, for every key alike. */
export function unreachable(r: ToolResult & { spawnError?: NodeJS.ErrnoException }): string | null {
  if (r.spawnError?.code === 'ENOENT') return SECRET_TOOL_NOT_INSTALLED;
  if (/Cannot autolaunch D-Bus|Could not connect|DBUS_SESSION_BUS_ADDRESS|Failed to connect to socket/i.test(r.stderr)) {
    return 'no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset or dead), so no Secret Service can be reached; run keyrack unlock from your desktop session';
  }
  if (/was not provided by any \.service files|org\.freedesktop\.secrets/i.test(r.stderr)) {
    return 'no Secret Service is running: start gnome-keyring-daemon, or turn on Secret Service integration in KeePassXC or KWallet';
  }
  return null;
}

/** `secret-tool lookup`: the value, or an Error naming what is wrong and the fix. */
export async function lookup(tool: string, attrs: Attrs, env: Env, timeoutMs: number, name: string): Promise<{ value: string } | Error> {
  const who = `keyring (${attrsText(attrs)})`;
  const r = await runTool(tool, ['lookup', ...argvOf(attrs)], { env, timeoutMs });
  const far = unreachable(r);
  if (far) return new KeyringUnreachable(`keyring: ${far}`);
  if (r.spawnError) return new KeyrackError(`${who}: could not run secret-tool: ${r.spawnError.code ?? r.spawnError.message}`);
  if (r.timedOut) return new UserError(`${who}: secret-tool timed out after ${seconds(timeoutMs)} (killed); is the keyring waiting for you to unlock it?`);
  if (r.code === 0) {
    if (r.overflow) return new UserError(`${who}: the value is larger than keyrack accepts`);
    const v = valueOf(r.stdout, false);
    return 'refused' in v ? new UserError(`${who}: ${v.refused}`) : v;
  }
  // Exit 1 and nothing said: absent, or present but locked. `search` tells them apart
  // (it lists a locked item's attributes, and says it cannot read its secret).
  const s = await runTool(tool, ['search', ...argvOf(attrs)], { env, timeoutMs });
  if (/locked/i.test(s.stderr) || (s.code === 0 && /^\[/m.test(s.stdout.toString('utf8')))) {
    return new UserError(`${who}: the keyring holding it is locked; unlock it (log in to your desktop, or open Seahorse or KeePassXC), then keyrack unlock again`);
  }
  const tail = stderrTail(r.stderr);
  if (tail) return new UserError(`${who}: secret-tool lookup failed: ${tail}`);
  return new UserError(`${who}: no item with these attributes in the keyring; store one with keyrack set ${name} --vault keyring --ref ${attrsText(attrs)} --store, or fix the attributes`);
}

/** `secret-tool store`: the value goes on stdin, never argv. */
export async function store(tool: string, label: string, attrs: Attrs, value: string, env: Env, timeoutMs: number): Promise<void> {
  const r = await runTool(tool, ['store', `--label=${label}`, ...argvOf(attrs)], { env, timeoutMs, input: value });
  const far = unreachable(r);
  if (far) throw new UserError(`keyring: ${far} — nothing stored`);
  if (r.timedOut) throw new UserError(`keyring: secret-tool store timed out after ${seconds(timeoutMs)} (killed); is the keyring waiting for you to unlock it? Nothing stored`);
  if (/locked collection/i.test(r.stderr)) throw new UserError('keyring: the default keyring is locked; unlock it (log in to your desktop, or open Seahorse), then try again — nothing stored');
  if (r.spawnError || r.code !== 0) {
    const tail = stderrTail(r.stderr);
    throw new UserError(`keyring: secret-tool store failed${tail ? `: ${tail}` : ` (exit ${r.code ?? 'by signal'})`} — nothing stored`);
  }
}

/** `secret-tool clear`: removes the items keyrack stored under these attributes. */
export async function clear(tool: string, attrs: Attrs, env: Env, timeoutMs: number): Promise<void> {
  const r = await runTool(tool, ['clear', ...argvOf(attrs)], { env, timeoutMs });
  const far = unreachable(r);
  if (far) throw new UserError(`keyring: ${far}; the item is still in the keyring`);
  if (r.timedOut || r.spawnError || (r.code !== 0 && r.stderr.trim() !== '')) {
    throw new UserError(`keyring: secret-tool clear failed${r.timedOut ? ` (timed out after ${seconds(timeoutMs)})` : `: ${stderrTail(r.stderr) || `exit ${r.code}`}`}; the item is still in the keyring`);
  }
}
