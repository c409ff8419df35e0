/**
 * The team file's values are plain age files, both ways, with the real `age` CLI
 * (Debian's): every member opens a value with `age -d -i` and their identity,
 * byte-exact; and a value `age -r … -r … -a` made, pasted into the file under a
 * `key` line, is read by keyrack — and re-encrypted by `team rekey` when it missed
 * a member.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool, run } from '../helpers.ts';
import { armorOf, line, person, plainIdentity, type Person } from '../team-fixtures.ts';

const age = requireTool('age');
const VALUE = `line one\nline "two" $x \`y\` \\ é 🔑\r\n\ttrailing  `;
const FROM_AGE = 'made by age -r -r -a\nwith two lines';

let people: Person[] = [];
let proj = '';
let team = '';

before(async () => {
  people = await Promise.all(['alice', 'bob', 'carol'].map(person));
  const [a, b, c] = people as [Person, Person, Person];
  proj = join(a.sb.dir, 'proj');
  mkdirSync(proj);
  team = join(realpathSync(proj), '.keyrack.team');
  writeFileSync(join(proj, '.keyrack'), 'INTEROP\nFROM_AGE\nONLY_ALICE\n');
  for (const [args, input] of [
    [['team', 'init', '--label', 'alice']], [['team', 'add', 'bob', b.recipient]], [['team', 'add', 'carol', c.recipient]],
    [['team', 'set', 'INTEROP'], line(VALUE)],
  ] as Array<[string[], string?]>) {
    const r = await a.kr(args, { cwd: proj, input });
    assert.equal(r.code, 0, r.stderr);
  }
  // Every member uses the same checkout (one HOME each): allowed by each.
  for (const p of people) assert.equal((await p.kr(['allow'], { cwd: proj })).code, 0);
});
after(() => people.forEach((p) => p.sb.cleanup()));

test('age -d -i opens a team value with any member\'s identity, byte-exact', { skip: !age }, async () => {
  const armored = join(proj, 'INTEROP.age');
  writeFileSync(armored, armorOf(readFileSync(team, 'utf8'), 'INTEROP'));
  for (const p of people) {
    const id = await plainIdentity(p, join(p.sb.dir, 'id.txt'));
    const r = await run('age', ['-d', '-i', id, armored], {});
    assert.equal(r.code, 0, `${p.name}: ${r.stderr}`);
    assert.equal(r.stdout, VALUE, `${p.name}: byte-exact`);
  }
  const stranger = await person('stranger');
  try {
    const id = await plainIdentity(stranger, join(stranger.sb.dir, 'id.txt'));
    assert.notEqual((await run('age', ['-d', '-i', id, armored], {})).code, 0);
  } finally {
    stranger.sb.cleanup();
  }
});

test('keyrack reads what age -r … -r … -a made, and rekey brings in a member a value missed', { skip: !age }, async () => {
  const [a, b, c] = people as [Person, Person, Person];
  const made = await run('age', ['-r', a.recipient, '-r', b.recipient, '-r', c.recipient, '-a'], { input: FROM_AGE });
  assert.equal(made.code, 0, made.stderr);
  const onlyAlice = await run('age', ['-r', a.recipient, '-a'], { input: 'for alice only' });
  assert.equal(onlyAlice.code, 0, onlyAlice.stderr);
  appendFileSync(team, `\nkey FROM_AGE\n${made.stdout}\nkey ONLY_ALICE\n${onlyAlice.stdout}`);

  // bob reads FROM_AGE; ONLY_ALICE is not his, said with the file, its line and the key.
  let r = await b.kr(['unlock'], { cwd: proj, input: `${b.pass}\n` });
  assert.equal(r.code, 2);
  const at = readFileSync(team, 'utf8').split('\n').indexOf('key ONLY_ALICE') + 1;
  assert.ok(r.stderr.includes(`keyrack: ONLY_ALICE: ${team}:${at}: it was not encrypted to you (bob): a member who can read it runs keyrack team rekey\n`), r.stderr);
  assert.match(r.stderr, /unlocked 2 keys \(from \.keyrack\.team\) for 8h/);
  r = await b.kr(['get', 'FROM_AGE'], { cwd: proj });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${FROM_AGE}\n`);
  // team list: pasted values carry no stamp ("current" unknown), keyrack's do.
  const listed = JSON.parse((await b.kr(['team', 'list', '--json'], { cwd: proj })).stdout) as { keys: Array<{ name: string; current?: boolean }> };
  assert.deepEqual(listed.keys, [{ name: 'FROM_AGE' }, { name: 'INTEROP', current: true }, { name: 'ONLY_ALICE' }]);

  // bob cannot rekey (he cannot read ONLY_ALICE): nothing written. alice can.
  const before = readFileSync(team);
  r = await b.kr(['team', 'rekey'], { cwd: proj, input: `${b.pass}\n` });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /ONLY_ALICE: it was not encrypted to you \(bob\).*; nothing written/);
  assert.ok(readFileSync(team).equals(before), 'the file is unchanged');
  r = await a.kr(['team', 'rekey'], { cwd: proj, input: `${a.pass}\n` });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /re-encrypted 3 keys to 3 recipients \(alice, bob and carol\)/);
  r = await c.kr(['unlock', 'ONLY_ALICE'], { cwd: proj, input: `${c.pass}\n` });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await c.kr(['get', 'ONLY_ALICE'], { cwd: proj })).stdout, 'for alice only\n');
  // And the real age still opens what rekey wrote.
  const id = await plainIdentity(c, join(c.sb.dir, 'id2.txt'));
  const armored = join(c.sb.dir, 'from-age.age');
  writeFileSync(armored, armorOf(readFileSync(team, 'utf8'), 'FROM_AGE'));
  const back = await run('age', ['-d', '-i', id, armored], {});
  assert.equal(back.stdout, FROM_AGE, back.stderr);
  for (const p of people) await p.kr(['daemon', 'stop']);
});
