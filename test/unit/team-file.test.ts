/**
 * The team file's format in-process: what parses, the stable order it is written
 * in, and every refusal located (file, line, key) without quoting the line. The
 * recipient check is the bech32 checksum, compared with age-encryption's own parser.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Encrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import fc from 'fast-check';
import { ARMOR_BEGIN, ARMOR_END, TEAM_HEADER, TeamFileError, formatTeam, parseTeam, recipientsStamp, type TeamValue } from '../../src/team/file.ts';
import { labelProblem, recipientProblem } from '../../src/team/recipient.ts';
import { openTeam, sealTeam } from '../../src/vaults/team.ts';

const P = '/p/.keyrack.team';
const ids = await Promise.all([0, 1, 2].map(() => generateX25519Identity()));
const recips = await Promise.all(ids.map((i) => identityToRecipient(i)));
const [RA, RB, RC] = recips as [string, string, string];

function errorOf(text: string): TeamFileError {
  try {
    parseTeam(P, text);
  } catch (e) {
    assert.ok(e instanceof TeamFileError, `expected a TeamFileError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the text to be refused');
}

const armorOf = (lines: string[]) => [ARMOR_BEGIN, ...lines, ARMOR_END];
const SAMPLE = armorOf(['YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBhYmNkZWZnaGlqa2xtbm9w', 'cXJzdA==']);

test('a written file parses back to the same members and values, in a stable order', async () => {
  const values = await sealTeam(new Map([['ZETA', 'z'], ['ALPHA', 'a'], ['mid.key-1', 'm']]), [RB, RA]);
  const members = [{ label: 'bob', recipient: RB, line: 0 }, { label: 'alice', recipient: RA, line: 0 }];
  const text = formatTeam({ members, values });
  const lines = text.split('\n');
  assert.deepEqual(lines.filter((l) => l.startsWith('recipient ')), [`recipient alice ${RA}`, `recipient bob ${RB}`]);
  const stamp = recipientsStamp([RA, RB]);
  assert.deepEqual(lines.filter((l) => l.startsWith('key ')), [`key ALPHA ${stamp}`, `key ZETA ${stamp}`, `key mid.key-1 ${stamp}`]);
  const t = parseTeam(P, text);
  assert.deepEqual(t.members.map((m) => [m.label, m.recipient]), [['alice', RA], ['bob', RB]]);
  assert.deepEqual([...t.values.keys()], ['ALPHA', 'ZETA', 'mid.key-1']);
  for (const [k, v] of t.values) assert.equal(v.armor, values.get(k)!.armor);
  // Written again from what was read: the very same bytes.
  assert.equal(formatTeam(t), text);
  // Each value opens with each member's identity, and with no one else's.
  for (const id of ids.slice(0, 2)) {
    const got = await openTeam(t, ['ALPHA', 'ZETA', 'mid.key-1'], id, {});
    assert.deepEqual([...got.values()], ['a', 'z', 'm']);
  }
  const outsider = await openTeam(t, ['ALPHA'], ids[2]!, {});
  assert.ok(outsider.get('ALPHA') instanceof TeamFileError);
});

test('stamps name the recipient set, whatever its order', () => {
  assert.equal(recipientsStamp([RA, RB]), recipientsStamp([RB, RA]));
  assert.notEqual(recipientsStamp([RA, RB]), recipientsStamp([RA, RB, RC]));
  assert.match(recipientsStamp([RA]), /^[0-9a-f]{8}$/);
});

test('comments, blank lines, CRLF, an unstamped block (as pasted from age -a) and any order are read', () => {
  const text = ['# hand-edited', '', TEAM_HEADER, `key B`, ...SAMPLE, '', `recipient zed ${RC}`, '   ', `key A 0123abcd`, ...SAMPLE, `recipient amy ${RA}`, ''].join('\r\n');
  const t = parseTeam(P, text);
  assert.deepEqual(t.members.map((m) => [m.label, m.line]), [['zed', 10], ['amy', 17]]);
  assert.equal(t.values.get('B')!.stamp, null);
  assert.equal(t.values.get('A')!.stamp, '0123abcd');
  assert.equal(t.values.get('A')!.line, 12);
  assert.equal(t.values.get('A')!.armor, SAMPLE.join('\n') + '\n');
});

const head = [TEAM_HEADER, `recipient alice ${RA}`];
const SECRETISH = 'ghp_S3CRETxVALUEx0123456789';
const bad: Array<[string, string[], number, RegExp, string?]> = [
  ['conflict marker between blocks', [...head, 'key A', ...SAMPLE, '<<<<<<< HEAD', 'key B', ...SAMPLE], 8, /merge conflict marker \(<<<<<<<\) after the value of A/],
  ['conflict marker inside a block', [...head, 'key A', SAMPLE[0]!, SAMPLE[1]!, '=======', SAMPLE[2]!, SAMPLE[3]!], 6, /merge conflict marker \(=======\) inside the value of A/],
  ['diff3 base marker', [...head, '||||||| base'], 3, /merge conflict marker \(\|\|\|\|\|\|\|\)/],
  ['end marker', [...head, `>>>>>>> ${SECRETISH}`], 3, /merge conflict marker \(>>>>>>>\)/],
  ['recipient with a broken checksum', [TEAM_HEADER, `recipient alice ${RA.slice(0, -1)}${RA.endsWith('q') ? 'p' : 'q'}`], 2, /recipient of alice is not an age recipient: its checksum is wrong/],
  ['an ssh key as recipient', [TEAM_HEADER, `recipient bob ssh-ed25519`], 2, /ssh key is not a keyrack recipient/],
  ['a post-quantum recipient', [TEAM_HEADER, `recipient bob age1pq1${'q'.repeat(60)}`], 2, /only X25519/],
  ['an uppercase recipient', [TEAM_HEADER, `recipient bob ${RA.toUpperCase()}`], 2, /lowercase/],
  ['a bad label', [TEAM_HEADER, `recipient ${SECRETISH}! ${RA}`], 2, /a label is 1 to 64/],
  ['a duplicate label', [...head, `recipient alice ${RB}`], 3, /label alice is already used on line 2/],
  ['a duplicate recipient', [...head, `recipient bob ${RA}`], 3, /bob has the same recipient as alice/],
  ['a duplicate key', [...head, 'key A', ...SAMPLE, 'key A', ...SAMPLE], 8, /A: is already in the file on line 3/],
  ['a bad key name', [...head, `key ${SECRETISH}=x`, ...SAMPLE], 3, /a key name is 1 to 128 characters/],
  ['a stray line', [...head, 'key A', ...SAMPLE, `DB_URL=${SECRETISH}`], 8, /not a recipient line, a key line or a comment \(after the value of A\)/],
  ['a value pasted in place of the armor', [...head, 'key A', ARMOR_BEGIN, `${SECRETISH}!`, ARMOR_END], 5, /A: not a line of an armored age file/],
  ['no BEGIN after the key line', [...head, 'key A', SECRETISH], 4, /A: expected -----BEGIN AGE ENCRYPTED FILE-----/],
  ['an armor line of the wrong length', [...head, 'key A', ARMOR_BEGIN, 'YWdl', 'cXJzdA==', ARMOR_END], 5, /A: an armored age line other than the last must be 64/],
  ['a cut last line', [...head, 'key A', ARMOR_BEGIN, 'YWdlLWV', ARMOR_END], 5, /A: the last armored line is cut short/],
  ['no END', [...head, 'key A', SAMPLE[0]!, SAMPLE[1]!], 3, /A: its value has no -----END/],
  ['a bad stamp', [...head, 'key A zz', ...SAMPLE], 3, /A: the stamp after the key name must be 8 hex/],
  ['no header', [`recipient alice ${RA}`], 1, /not a keyrack team file/],
  ['a newer version', ['keyrack-team v2', `recipient alice ${RA}`], 1, /another version of keyrack/],
  ['a NUL', [...head, 'key A\0'], 3, /NUL/],
  ['no recipient', [TEAM_HEADER, 'key A', ...SAMPLE], 0, /has no recipient/],
  ['empty', ['# only a comment'], 0, /is empty/],
];

for (const [name, lines, line, why, ] of bad) {
  test(`refused, located, never quoted: ${name}`, () => {
    const e = errorOf(lines.join('\n') + '\n');
    assert.equal(e.line, line, e.message);
    assert.match(e.message, why);
    assert.ok(e.message.startsWith(line > 0 ? `${P}:${line}: ` : `${P}: `), e.message);
    assert.equal(e.message.includes(SECRETISH), false, 'a line was echoed');
    assert.equal(e.exitCode, 2);
  });
}

test('the recipient check agrees with age-encryption on real and mangled recipients', async () => {
  const alphabet = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
  const accepts = (r: string) => {
    try {
      new Encrypter().addRecipient(r);
      return true;
    } catch {
      return false;
    }
  };
  for (const r of recips) assert.equal(recipientProblem(r), null);
  await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 4, max: 61 }), fc.integer({ min: 0, max: 31 }), async (w, at, c) => {
    const r = recips[w]!;
    const mangled = r.slice(0, at) + alphabet[c] + r.slice(at + 1);
    assert.equal(recipientProblem(mangled) === null, accepts(mangled) || mangled === r, mangled);
  }), { numRuns: 300 });
  assert.match(recipientProblem(RA.slice(0, 40))!, /checksum|too short|bytes/);
  assert.match(recipientProblem(`${RA}q`)!, /checksum|padding|bytes/);
});

test('labels: letters, digits and a few marks, nothing a terminal or a shell acts on', () => {
  for (const ok of ['alice', 'bob.smith', 'c@example.com', 'ci-bot_2', 'x+y']) assert.equal(labelProblem(ok), null, ok);
  for (const no of ['', '-lead', 'has space', 'a\x1b[1m', 'é', 'a'.repeat(65), 'a/b', 'a;b']) assert.notEqual(labelProblem(no), null, no);
});

test('a value is opened only by its armor: tampering is a located error', async () => {
  const values = await sealTeam(new Map([['K', 'v']]), [RA]);
  const v = values.get('K')!;
  const lines = v.armor.trimEnd().split('\n');
  // Flip one base64 character in the body: the payload's tag no longer verifies.
  const i = lines.length - 2;
  const l = lines[i]!;
  lines[i] = l.slice(0, 10) + (l[10] === 'A' ? 'B' : 'A') + l.slice(11);
  const t = parseTeam(P, formatTeam({ members: [{ label: 'alice', recipient: RA, line: 0 }], values: new Map([['K', { ...v, armor: lines.join('\n') + '\n' } satisfies TeamValue]]) }));
  const got = (await openTeam(t, ['K'], ids[0]!, {})).get('K');
  assert.ok(got instanceof TeamFileError);
  assert.match(got.message, /^\/p\/\.keyrack\.team:\d+: K: /);
});
