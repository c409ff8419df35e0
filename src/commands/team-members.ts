/**
 * `keyrack team init|add|rm|list`: who the team file's values are encrypted to.
 * Adding or removing a member re-encrypts every value to the new list, so it
 * needs your passphrase (you must be able to read them all); removing one says
 * plainly what they could read and may have kept.
 */
import { userInfo } from 'node:os';
import { UserError } from '../errors.js';
import { printable, printableJson } from '../printable.js';
import { recipientsOf, recipientsStamp, type Member } from '../team/file.js';
import { labelProblem, recipientProblem } from '../team/recipient.js';
import { andList, existingTeam, openAll, openMyIdentity, sealAll, say, teamHere, writeTeam } from './team-io.js';

async function myRecipient(env: NodeJS.ProcessEnv): Promise<string> {
  return (await import('../vaults/secure.js')).readRecipient(env);
}

/** `team init [--label L]`: the file, with you as its one recipient. */
export async function init(label: string | undefined): Promise<void> {
  const env = process.env;
  const me = await myRecipient(env);
  const here = teamHere(env);
  if (here.file !== null) throw new UserError(`${here.path} already exists; keyrack team list shows who is in it`);
  const name = label ?? env.USER ?? userInfo().username;
  const p = labelProblem(name);
  if (p) throw new UserError(`${label === undefined ? 'your user name cannot be a label' : '--label'}: ${p}; choose one with --label`);
  writeTeam(env, here, { members: [{ label: name, recipient: me, line: 0 }], values: new Map() });
  say(`created ${here.path} with you (${name}) as its recipient — commit it. A teammate runs keyrack whoami and sends you the line; you run keyrack team add LABEL RECIPIENT`);
}

/** `team add LABEL RECIPIENT`: a new member, and every value re-encrypted to include them. */
export async function add(label: string, recipient: string): Promise<void> {
  const env = process.env;
  const lp = labelProblem(label);
  if (lp) throw new UserError(`team add: ${lp}`);
  const rp = recipientProblem(recipient);
  if (rp) throw new UserError(`team add ${label}: the recipient is ${rp.startsWith('not ') ? rp : `refused: ${rp}`}`);
  const here = existingTeam(env);
  const { file } = here;
  if (file.members.some((m) => m.label === label)) throw new UserError(`${label} is already a recipient of ${here.path}`);
  const same = file.members.find((m) => m.recipient === recipient);
  if (same) throw new UserError(`that recipient is already in ${here.path}, as ${same.label}`);
  const members: Member[] = [...file.members, { label, recipient, line: 0 }];
  let values = file.values;
  if (file.values.size > 0) {
    const plain = await openAll(env, file, await openMyIdentity(env));
    values = await sealAll(plain, recipientsOf({ members }));
  }
  writeTeam(env, here, { members, values });
  const labels = members.map((m) => m.label).sort();
  say(`added ${label}; ${values.size} key${values.size === 1 ? '' : 's'} encrypted to ${members.length} recipients (${andList(labels)}) — commit ${here.path}`);
}

/** `team rm LABEL`: the member goes, every value is re-encrypted without them, and you are told what to rotate. */
export async function rm(label: string): Promise<void> {
  const env = process.env;
  const here = existingTeam(env);
  const { file } = here;
  const gone = file.members.find((m) => m.label === label);
  if (!gone) throw new UserError(`${labelProblem(label) ? 'no such recipient' : `no recipient ${label}`} in ${here.path} (keyrack team list shows them)`);
  const members = file.members.filter((m) => m !== gone);
  if (members.length === 0) throw new UserError(`${label} is the last recipient of ${here.path}: nobody could read its values; add someone first, or delete the file`);
  const me = await myRecipient(env).catch(() => undefined);
  let values = file.values;
  if (file.values.size > 0) {
    const plain = await openAll(env, file, await openMyIdentity(env));
    values = await sealAll(plain, recipientsOf({ members }));
  }
  writeTeam(env, here, { members, values });
  const keys = [...values.keys()].sort();
  say(`removed ${label}; ${keys.length} key${keys.length === 1 ? '' : 's'} re-encrypted to ${andList(members.map((m) => m.label).sort())} — commit ${here.path}`);
  if (keys.length > 0) {
    say(`${label} could read ${keys.length === 1 ? 'this value' : 'these values'} and may have kept ${keys.length === 1 ? 'it' : 'them'} (or an old clone of the file): rotate ${andList(keys)} — change each where it is issued, then keyrack team set KEY`);
  }
  if (gone.recipient === me) say('that was you: you can no longer read the new file');
}

/** `team list [--json]`: the recipients (you marked) and the keys, with any value that missed a change of recipients. */
export async function list(json: boolean): Promise<void> {
  const env = process.env;
  const { file, path } = existingTeam(env);
  const me = await myRecipient(env).catch(() => undefined);
  const stamp = recipientsStamp(recipientsOf(file));
  const members = [...file.members].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  const keys = [...file.values.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  if (json) {
    const doc = {
      version: 1,
      file: path,
      recipients: members.map((m) => ({ label: m.label, recipient: m.recipient, you: m.recipient === me })),
      keys: keys.map((v) => ({ name: v.key, ...(v.stamp !== null && { current: v.stamp === stamp }) })),
    };
    process.stdout.write(printableJson(JSON.stringify(doc, null, 2)) + '\n');
    return;
  }
  const w = Math.max(...members.map((m) => m.label.length));
  const lines = [`${path}`, `recipients (${members.length})`,
    ...members.map((m) => `  ${m.label.padEnd(w)}  ${m.recipient}${m.recipient === me ? '  (you)' : ''}`),
    `keys (${keys.length})`,
    ...keys.map((v) => `  ${v.key}${v.stamp !== null && v.stamp !== stamp ? '  encrypted to an earlier recipient list — keyrack team rekey' : ''}`)];
  process.stdout.write(lines.map(printable).join('\n') + '\n');
}
