/**
 * The team file, `.keyrack.team`, committed beside the manifest: who the values are
 * encrypted to, and one armored age ciphertext per key, each to every recipient.
 *
 *   # keyrack team file: …
 *   keyrack-team v1
 *
 *   recipient alice age1…
 *   recipient bob age1…
 *
 *   key DATABASE_URL 3f2a9c01
 *   -----BEGIN AGE ENCRYPTED FILE-----
 *   …
 *   -----END AGE ENCRYPTED FILE-----
 *
 * Text in a stable order (recipients by label, keys by name), so a diff shows which
 * key changed and two people changing two keys merge without a conflict. The 8 hex
 * after a key's name stamp the recipient list it was encrypted to (optional: a block
 * pasted from `age -a` has none), so a value that missed a membership change — e.g.
 * across a merge — is found. It is repo content: the parser never echoes a line,
 * only its number and, once validated, a key name or label.
 */
import { createHash } from 'node:crypto';
import { UserError } from '../errors.js';
import { KEY_NAME, KEY_NAME_MAX, keyNameProblem } from '../env/names.js';
import { labelProblem, recipientProblem } from './recipient.js';

export const TEAM_FILE = '.keyrack.team';
/** 30 recipients × 1000 keys fit; a file past this is not a team file. */
export const TEAM_MAX_BYTES = 4 * 1024 * 1024;
export const TEAM_HEADER = 'keyrack-team v1';
export const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';
export const ARMOR_END = '-----END AGE ENCRYPTED FILE-----';

const COMMENT = [
  '# keyrack team file: each value below is age-encrypted to every recipient listed here.',
  '# Change it with keyrack team set|unset|add|rm|rekey; one value opens with age -d -i.',
];

/** A teammate: the label people use, the age X25519 recipient the values are encrypted to. */
export interface Member {
  label: string;
  recipient: string;
  /** Where it was read (0 when made in memory). */
  line: number;
}

/** One key's value, as committed: an armored age file. */
export interface TeamValue {
  key: string;
  /** From BEGIN to END, each line ending in \n. */
  armor: string;
  /** The recipient list it was encrypted to (recipientsStamp), or null when unknown. */
  stamp: string | null;
  /** The line of `key NAME` (0 when made in memory). */
  line: number;
}

/** A parsed team file. */
export interface TeamFile {
  /** Where it is (the real path of its directory plus .keyrack.team); messages name it. */
  path: string;
  members: Member[];
  values: Map<string, TeamValue>;
}

/** A located error in a team file: file, line (0: the whole file), the key when known. Exit 2. */
export class TeamFileError extends UserError {
  constructor(readonly file: string, readonly line: number, readonly reason: string, readonly key?: string) {
    super(`${file}${line > 0 ? `:${line}` : ''}: ${key === undefined ? '' : `${key}: `}${reason}`);
  }
}

/** Names the recipient list a value was encrypted to: 8 hex of sha256 over the sorted recipients. */
export function recipientsStamp(recipients: readonly string[]): string {
  return createHash('sha256').update([...recipients].sort().join('\n'), 'utf8').digest('hex').slice(0, 8);
}

const CONFLICT = /^(<{7}|\|{7}|={7}|>{7})(\s|$)/;
const ARMOR_LINE = /^[A-Za-z0-9+/=]{1,64}$/;
const STAMP = /^[0-9a-f]{8}$/;

/** Parses a team file's text. Pure: `path` is used only in messages and the result. */
export function parseTeam(path: string, text: string): TeamFile {
  const members: Member[] = [];
  const values = new Map<string, TeamValue>();
  const lines = text.split('\n');
  let header = false;
  /** The key whose block is open, and its armor lines so far. */
  let open: { key: string; stamp: string | null; line: number; body: string[]; begun: boolean } | undefined;
  /** The last key seen, to say where a stray line sits. */
  let last: string | undefined;
  const fail = (line: number, reason: string, key?: string): never => {
    throw new TeamFileError(path, line, reason, key);
  };

  lines.forEach((raw, i) => {
    const n = i + 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' && n === lines.length) return; // what follows the last newline
    if (line.includes('\0')) fail(n, 'contains a NUL byte', open?.key);
    const marker = CONFLICT.exec(line);
    if (marker) {
      const where = open ? ` inside the value of ${open.key}` : last ? ` after the value of ${last}` : '';
      fail(n, `a merge conflict marker (${marker[1]})${where}: keep one side of each conflicting key and delete the markers, then run keyrack team list to check it`);
    }
    if (open) {
      if (!open.begun) {
        if (line !== ARMOR_BEGIN) fail(n, `expected ${ARMOR_BEGIN} on the line after key ${open.key}`, open.key);
        open.begun = true;
        return;
      }
      if (line === ARMOR_END) {
        finishBlock(open, n);
        open = undefined;
        return;
      }
      if (!ARMOR_LINE.test(line)) fail(n, 'not a line of an armored age file (base64, at most 64 characters)', open.key);
      open.body.push(line);
      return;
    }
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    if (!header) {
      if (t.startsWith('keyrack-team ') && t !== TEAM_HEADER) fail(n, `written for another version of keyrack (this one reads "${TEAM_HEADER}")`);
      if (t !== TEAM_HEADER) fail(n, `not a keyrack team file: its first line that is not a comment must be "${TEAM_HEADER}"`);
      header = true;
      return;
    }
    const words = t.split(/[ \t]+/);
    if (words[0] === 'recipient') {
      if (words.length !== 3) fail(n, 'a recipient line is: recipient LABEL age1…');
      const [, label = '', recipient = ''] = words;
      const lp = labelProblem(label);
      if (lp) fail(n, lp);
      const rp = recipientProblem(recipient);
      if (rp) fail(n, `the recipient of ${label} is ${rp.startsWith('not ') ? rp : `refused: ${rp}`}`);
      const dupLabel = members.find((m) => m.label === label);
      if (dupLabel) fail(n, `the label ${label} is already used on line ${dupLabel.line}`);
      const dup = members.find((m) => m.recipient === recipient);
      if (dup) fail(n, `${label} has the same recipient as ${dup.label} (line ${dup.line})`);
      members.push({ label, recipient, line: n });
      return;
    }
    if (words[0] === 'key') {
      if (words.length < 2 || words.length > 3) fail(n, 'a key line is: key NAME [STAMP]');
      const [, key = '', stamp] = words;
      if (keyNameProblem(key)) fail(n, `a key name is 1 to ${KEY_NAME_MAX} characters matching ${KEY_NAME.source}`);
      if (stamp !== undefined && !STAMP.test(stamp)) fail(n, 'the stamp after the key name must be 8 hex digits (or nothing)', key);
      const prev = values.get(key);
      if (prev) fail(n, `is already in the file on line ${prev.line}`, key);
      open = { key, stamp: stamp ?? null, line: n, body: [], begun: false };
      last = key;
      return;
    }
    fail(n, `not a recipient line, a key line or a comment${last ? ` (after the value of ${last})` : ''}`);
  });
  if (open) fail(open.line, open.begun ? `its value has no ${ARMOR_END} line` : 'the file ends after its key line', open.key);
  if (!header) fail(0, `is empty: a team file starts with "${TEAM_HEADER}" (keyrack team init makes one)`);
  if (members.length === 0) fail(0, 'has no recipient: nobody could read its values (keyrack team add LABEL RECIPIENT)');
  return { path, members, values };

  function finishBlock(b: NonNullable<typeof open>, endLine: number): void {
    if (b.body.length === 0) fail(endLine, 'its armored value is empty', b.key);
    const lastLine = b.body[b.body.length - 1]!;
    const badAt = b.body.findIndex((l, j) => j < b.body.length - 1 && l.length !== 64);
    if (badAt !== -1) fail(b.line + 2 + badAt, 'an armored age line other than the last must be 64 characters long', b.key);
    if (lastLine.length % 4 !== 0) fail(endLine - 1, 'the last armored line is cut short (its length is not a multiple of 4)', b.key);
    const armor = `${ARMOR_BEGIN}\n${b.body.join('\n')}\n${ARMOR_END}\n`;
    values.set(b.key, { key: b.key, armor, stamp: b.stamp, line: b.line });
  }
}

const byCode = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The file's text, in its stable order: recipients by label, keys by name (code-point order). */
export function formatTeam(t: Pick<TeamFile, 'members' | 'values'>): string {
  const out = [...COMMENT, TEAM_HEADER, ''];
  for (const m of [...t.members].sort((a, b) => byCode(a.label, b.label))) out.push(`recipient ${m.label} ${m.recipient}`);
  for (const v of [...t.values.values()].sort((a, b) => byCode(a.key, b.key))) {
    out.push('', v.stamp === null ? `key ${v.key}` : `key ${v.key} ${v.stamp}`, v.armor.replace(/\n$/, ''));
  }
  return out.join('\n') + '\n';
}

/** The recipients, in the file's order. */
export function recipientsOf(t: Pick<TeamFile, 'members'>): string[] {
  return t.members.map((m) => m.recipient);
}
