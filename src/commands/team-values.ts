/**
 * `keyrack team set|unset|rekey`: the team file's values. `set` encrypts to the
 * recipients and needs no passphrase (the value from a hidden prompt, or stdin
 * minus one trailing newline, exactly as `keyrack set`); it names who can read
 * it, since the file is repo content and its list could have been changed in a
 * commit. `rekey` decrypts and re-encrypts everything to the current list.
 */
import { UserError } from '../errors.js';
import { readSecret } from '../input.js';
import { assertKeyName } from '../env/names.js';
import { loadRegistry } from '../registry.js';
import { recipientsOf, recipientsStamp, type TeamFile } from '../team/file.js';
import { andList, dropTeamValues, existingTeam, openAll, openMyIdentity, sealAll, say, writeTeam } from './team-io.js';

/** Tells the user about a held copy that was dropped, and values left behind by a change of recipients. */
function afterWrite(next: TeamFile, dropped: string[]): void {
  for (const k of dropped) say(`the daemon held the old value of ${k}; locked it — keyrack unlock ${k} to load the new one`);
  const stamp = recipientsStamp(recipientsOf(next));
  const stale = [...next.values.values()].filter((v) => v.stamp !== null && v.stamp !== stamp).map((v) => v.key).sort();
  if (stale.length > 0) say(`${andList(stale)} ${stale.length === 1 ? 'was' : 'were'} encrypted to an earlier recipient list: keyrack team rekey (by a member who can read them)`);
}

/** `team set KEY`: encrypt a value to every recipient. */
export async function set(key: string): Promise<void> {
  const env = process.env;
  assertKeyName(key);
  // Before asking for the value, so nobody types a secret for nothing.
  const here = existingTeam(env);
  const value = await readSecret(`Value for ${key} (hidden): `, `the value for ${key}`);
  const recipients = recipientsOf(here.file);
  const sealed = await sealAll(new Map([[key, value]]), recipients);
  const next: TeamFile = { ...here.file, values: new Map([...here.file.values, ...sealed]) };
  writeTeam(env, here, next);
  const replaced = here.file.values.has(key);
  const labels = here.file.members.map((m) => m.label).sort();
  say(`${replaced ? 'replaced' : 'stored'} ${key} in ${here.path}, encrypted to ${labels.length} recipient${labels.length === 1 ? '' : 's'} (${andList(labels)}) — commit it`);
  if (!here.manifest.entries.some((e) => e.key === key)) say(`note: ${here.manifest.path} does not list ${key}; add it there so the project uses it`);
  const own = loadRegistry(env).keys[key];
  if (own) say(`note: your own registry maps ${key} (${own.vault}): yours wins in your shell; teammates without one get the team's`);
  afterWrite(next, replaced ? await dropTeamValues(env, here.path, [key]) : []);
}

/** `team unset KEY`: the value leaves the file (and the daemon). */
export async function unset(key: string): Promise<void> {
  const env = process.env;
  assertKeyName(key);
  const here = existingTeam(env);
  if (!here.file.values.has(key)) throw new UserError(`${key} is not in ${here.path} (keyrack team list shows its keys)`);
  const values = new Map(here.file.values);
  values.delete(key);
  const next: TeamFile = { ...here.file, values };
  writeTeam(env, here, next);
  say(`removed ${key} from ${here.path} — commit it (its old value stays in the repository's history: rotate it if that matters)`);
  const dropped = await dropTeamValues(env, here.path, [key]);
  if (dropped.length > 0) say(`the daemon held ${key}; locked it`);
  afterWrite(next, []);
}

/** `team rekey`: every value decrypted and encrypted again, with fresh file keys, to the current recipients. */
export async function rekey(): Promise<void> {
  const env = process.env;
  const here = existingTeam(env);
  const { file } = here;
  if (file.values.size === 0) {
    say(`${here.path} holds no values yet: nothing to re-encrypt`);
    return;
  }
  const plain = await openAll(env, file, await openMyIdentity(env));
  const values = await sealAll(plain, recipientsOf(file));
  const next: TeamFile = { ...file, values };
  writeTeam(env, here, next);
  const labels = file.members.map((m) => m.label).sort();
  say(`re-encrypted ${values.size} key${values.size === 1 ? '' : 's'} to ${labels.length} recipient${labels.length === 1 ? '' : 's'} (${andList(labels)}) — commit ${here.path}`);
}
