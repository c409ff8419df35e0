/**
 * `keyrack mark KEY --exec-only | --no-exec-only`: changes a key's mark in the
 * registry without touching its value or its vault. Exec-only keys reach commands
 * run with `keyrack exec` (and `get`), never an interactive shell through the hook.
 */
import { UserError } from '../errors.js';
import { bumpGeneration } from '../generation.js';
import { assertKeyName } from '../env/names.js';
import { updateRegistry } from '../registry.js';

/** `execOnly`: the flag given, undefined when none was. */
export async function run(key: string, o: { execOnly: boolean | undefined }): Promise<number | void> {
  assertKeyName(key);
  if (o.execOnly !== true && o.execOnly !== false) throw new UserError(`mark needs --exec-only or --no-exec-only: keyrack mark ${key} --exec-only`);
  const on = o.execOnly;
  let found = false;
  updateRegistry(process.env, (r) => {
    const e = r.keys[key];
    if (!e) return;
    found = true;
    if (on) e.execOnly = true;
    else delete e.execOnly;
  });
  if (!found) throw new UserError(`${key} is absent — run keyrack set ${key}${on ? ' --exec-only' : ''}`);
  // Every hooked shell re-exports at its next prompt: a key marked now leaves them.
  bumpGeneration(process.env);
  process.stderr.write(on
    ? `keyrack: ${key} is exec-only: hooked shells drop it at their next prompt; keyrack exec -- CMD still passes it\n`
    : `keyrack: ${key} is no longer exec-only: the hook sets it where a manifest lists it (unless the line says exec-only)\n`);
}
