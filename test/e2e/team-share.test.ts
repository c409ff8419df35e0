/**
 * Issue 12's "done when": three people (three HOMEs, three real identities) share
 * one real git repository through a bare remote. A creates the team file and adds
 * B; B clones, allows, unlocks once and has the keys — in a real shell through the
 * hook, byte-exact, and in `exec`; B adds C; C clones and has them; A removes B and
 * rotates a value: the rekeyed file no longer opens with B's identity (keyrack's
 * nor the real age's), and C's shell keeps the old value until C unlocks, when the
 * hook marks it `~DB_URL`. A in fish, B in bash, C in zsh.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool, run } from '../helpers.ts';
import { keyrackCmd, ShellSession, type ShellName } from '../shell-session.ts';
import { armorOf, hints, line, person, plainIdentity, recipientLines, type Person } from '../team-fixtures.ts';

const git = requireTool('git');
const age = requireTool('age');
const shellsThere = (['bash', 'zsh', 'fish'] as const).every((s) => requireTool(s));

const DB1 = `postgres://app:p'a"s$s\`w\\d@db.internal:5432/app?x=1\n second line é 🔑 \x1b[0m`;
const DB2 = 'postgres://app:rotated-after-bob-left@db.internal/app';
const TOKEN = `tok_${'Zq9'.repeat(12)}`;
const BOB_OWN = 'bob maps API_TOKEN himself';

const sq = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
const sqFish = (s: string) => `'${s.replace(/[\\']/g, '\\$&')}'`;

let A: Person, B: Person, C: Person;
let remote: string;
const shells: ShellSession[] = [];

before(async () => {
  [A, B, C] = await Promise.all([person('alice'), person('bob'), person('carol')]);
  remote = join(A.sb.dir, 'remote.git');
  if (git) await A.git(['init', '-q', '--bare', remote], A.sb.dir);
});
after(async () => {
  for (const s of shells) await s.close();
  for (const p of [A, B, C]) p?.sb.cleanup();
});

/** A shell for `p`, in `cwd`, closed at the end. */
async function shell(p: Person, name: ShellName, cwd: string): Promise<{ s: ShellSession; kr: string; pass: string }> {
  const s = await ShellSession.start(name, p.sb, { cwd });
  shells.push(s);
  return { s, kr: keyrackCmd(name), pass: `printf '%s\\n' ${name === 'fish' ? sqFish(p.pass) : sq(p.pass)} |` };
}

async function envOf(s: ShellSession, names: string[]): Promise<Record<string, string | undefined>> {
  const env = await s.env();
  return Object.fromEntries(names.map((n) => [n, env.get(n)?.toString('utf8')]));
}

/** The exec'd command's environment, byte-exact, from a file it wrote with env -0. */
function execEnv(file: string, names: string[]): Record<string, string | undefined> {
  const raw = readFileSync(file);
  const out: Record<string, string | undefined> = Object.fromEntries(names.map((n) => [n, undefined]));
  for (const entry of raw.toString('utf8').split('\0')) {
    const eq = entry.indexOf('=');
    const n = entry.slice(0, eq);
    if (names.includes(n)) out[n] = entry.slice(eq + 1);
  }
  return out;
}

test('A, B and C share one repository: init, add, clone, unlock once, add, remove and rotate', { skip: !git || !age || !shellsThere }, async () => {
  // A: a project, a team file with A in it, two values, then B.
  const aProj = join(A.sb.dir, 'api');
  mkdirSync(aProj);
  await A.git(['init', '-q'], aProj);
  writeFileSync(join(aProj, '.keyrack'), 'DB_URL\nAPI_TOKEN\nLOCAL_ONLY?\n');
  let r = await A.kr(['team', 'init', '--label', 'alice'], { cwd: aProj });
  assert.equal(r.code, 0, r.stderr);
  const aTeam = join(realpathSync(aProj), '.keyrack.team');
  assert.match(r.stderr, new RegExp(`^keyrack: created ${aTeam.replaceAll('.', '\\.')} with you \\(alice\\) as its recipient`));
  for (const [k, v] of [['DB_URL', DB1], ['API_TOKEN', TOKEN]] as const) {
    r = await A.kr(['team', 'set', k], { cwd: aProj, input: line(v) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`stored ${k} in .*, encrypted to 1 recipient \\(alice\\) — commit it`));
  }
  r = await A.kr(['team', 'add', 'bob', B.recipient], { cwd: aProj, input: `${A.pass}\n` });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /keyrack: added bob; 2 keys encrypted to 2 recipients \(alice and bob\)/);
  assert.deepEqual(recipientLines(aTeam), [`recipient alice ${A.recipient}`, `recipient bob ${B.recipient}`]);
  // Values only as ciphertext; keys in order.
  const text1 = readFileSync(aTeam, 'utf8');
  assert.equal(text1.includes('postgres'), false);
  assert.deepEqual(text1.split('\n').filter((l) => l.startsWith('key ')).map((l) => l.split(' ')[1]), ['API_TOKEN', 'DB_URL']);
  await A.git(['add', '.keyrack', '.keyrack.team'], aProj);
  await A.git(['commit', '-q', '-m', 'team secrets'], aProj);
  await A.git(['push', '-q', remote, 'HEAD:main'], aProj);

  // A's own shell (fish): allow, unlock, the values.
  const a = await shell(A, 'fish', A.sb.dir);
  let out = await a.s.run(`cd ${aProj}`);
  assert.deepEqual(hints(out), ['keyrack: .keyrack is untrusted — run keyrack allow']);
  out = await a.s.run(`${a.kr} allow`);
  assert.deepEqual(hints(out), [
    `keyrack: allowed ${join(realpathSync(aProj), '.keyrack')} (3 keys: DB_URL API_TOKEN LOCAL_ONLY?)`,
    'keyrack: 2 keys locked (DB_URL, API_TOKEN) — run keyrack unlock',
  ]);
  out = await a.s.run(`${a.pass} ${a.kr} unlock`);
  assert.deepEqual(hints(out), ['keyrack: unlocked 2 keys (from .keyrack.team) for 8h', 'keyrack: +DB_URL +API_TOKEN']);
  assert.deepEqual(await envOf(a.s, ['DB_URL', 'API_TOKEN']), { DB_URL: DB1, API_TOKEN: TOKEN });

  // B: clone, allow, one unlock; the hook sets both byte-exact, and exec has them.
  const bProj = join(B.sb.dir, 'api');
  await B.git(['clone', '-q', remote, bProj], B.sb.dir);
  const b = await shell(B, 'bash', B.sb.dir);
  out = await b.s.run(`cd ${bProj}`);
  assert.deepEqual(hints(out), ['keyrack: .keyrack is untrusted — run keyrack allow']);
  out = await b.s.run(`${b.kr} allow`);
  assert.deepEqual(hints(out).slice(1), ['keyrack: 2 keys locked (DB_URL, API_TOKEN) — run keyrack unlock']);
  out = await b.s.run(`${b.pass} ${b.kr} unlock`);
  assert.deepEqual(hints(out), ['keyrack: unlocked 2 keys (from .keyrack.team) for 8h', 'keyrack: +DB_URL +API_TOKEN']);
  assert.deepEqual(await envOf(b.s, ['DB_URL', 'API_TOKEN']), { DB_URL: DB1, API_TOKEN: TOKEN });
  const bExec = join(B.sb.dir, 'exec.env');
  await b.s.run(`env -u DB_URL -u API_TOKEN ${b.kr} exec --no-mask -- env -0 > ${bExec}`);
  assert.deepEqual(execEnv(bExec, ['DB_URL', 'API_TOKEN']), { DB_URL: DB1, API_TOKEN: TOKEN });
  // status says where each comes from; the audit log says the team gave them.
  const st = JSON.parse((await B.kr(['status', '--json'], { cwd: bProj })).stdout) as {
    manifest: { team: string; entries: Array<{ key: string; state: string; source: string | null }> }; keys: Array<{ name: string; source: string }>;
  };
  assert.equal(st.manifest.team, join(realpathSync(bProj), '.keyrack.team'));
  assert.deepEqual(st.manifest.entries.map((e) => [e.key, e.state, e.source]), [['DB_URL', 'ready', 'team'], ['API_TOKEN', 'ready', 'team'], ['LOCAL_ONLY', 'absent', null]]);
  assert.deepEqual(st.keys.map((k) => [k.name, k.source]), [['API_TOKEN', 'team'], ['DB_URL', 'team']]);
  const log = (await B.kr(['log', '--json', '--key', 'DB_URL'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { keys: string[]; sources?: Record<string, string> });
  assert.ok(log.length >= 2 && log.every((rec) => rec.keys.includes('DB_URL') && rec.sources?.DB_URL === 'team'), JSON.stringify(log));

  // B's own mapping wins over the team's, and the team's comes back when B drops it.
  out = await b.s.run(`printf '%s\\n' ${sq(BOB_OWN)} | ${b.kr} set API_TOKEN --vault os.direct`);
  assert.deepEqual(hints(out), ['keyrack: stored API_TOKEN in os.direct', 'keyrack: ~API_TOKEN']);
  assert.deepEqual(await envOf(b.s, ['API_TOKEN']), { API_TOKEN: BOB_OWN });
  // Not from the terminal: rm would ask, since the allowed manifest lists the key.
  out = await b.s.run(`${b.kr} rm API_TOKEN </dev/null`);
  assert.deepEqual(hints(out), ['keyrack: removed API_TOKEN from os.direct', 'keyrack: ~API_TOKEN']);
  assert.deepEqual(await envOf(b.s, ['API_TOKEN']), { API_TOKEN: TOKEN });

  // B adds C, and pushes.
  out = await b.s.run(`${b.pass} ${b.kr} team add carol ${C.recipient}`);
  assert.match(hints(out).join('\n'), /keyrack: added carol; 2 keys encrypted to 3 recipients \(alice, bob and carol\)/);
  await B.git(['commit', '-q', '-am', 'add carol'], bProj);
  await B.git(['push', '-q', remote, 'HEAD:main'], bProj);

  // C: clone, allow, unlock: the same values.
  const cProj = join(C.sb.dir, 'api');
  await C.git(['clone', '-q', remote, cProj], C.sb.dir);
  assert.deepEqual(recipientLines(join(cProj, '.keyrack.team')), [`recipient alice ${A.recipient}`, `recipient bob ${B.recipient}`, `recipient carol ${C.recipient}`]);
  const c = await shell(C, 'zsh', cProj);
  out = await c.s.run(`${c.kr} allow`);
  assert.deepEqual(hints(out).slice(1), ['keyrack: 2 keys locked (DB_URL, API_TOKEN) — run keyrack unlock']);
  out = await c.s.run(`${c.pass} ${c.kr} unlock`);
  assert.deepEqual(hints(out), ['keyrack: unlocked 2 keys (from .keyrack.team) for 8h', 'keyrack: +DB_URL +API_TOKEN']);
  assert.deepEqual(await envOf(c.s, ['DB_URL', 'API_TOKEN']), { DB_URL: DB1, API_TOKEN: TOKEN });

  // A pulls, removes B (told what to rotate), rotates DB_URL, pushes.
  await A.git(['pull', '-q', remote, 'main'], aProj);
  out = await a.s.run(`${a.pass} ${a.kr} team rm bob`);
  assert.deepEqual(hints(out).filter((h) => !h.includes('opening your identity')), [
    `keyrack: removed bob; 2 keys re-encrypted to alice and carol — commit ${aTeam}`,
    'keyrack: bob could read these values and may have kept them (or an old clone of the file): rotate API_TOKEN and DB_URL — change each where it is issued, then keyrack team set KEY',
  ]);
  out = await a.s.run(`printf '%s\\n' ${sqFish(DB2)} | ${a.kr} team set DB_URL`);
  assert.deepEqual(hints(out), [
    `keyrack: replaced DB_URL in ${aTeam}, encrypted to 2 recipients (alice and carol) — commit it`,
    'keyrack: the daemon held the old value of DB_URL; locked it — keyrack unlock DB_URL to load the new one',
    'keyrack: -DB_URL; DB_URL locked — run keyrack unlock',
  ]);
  out = await a.s.run(`${a.pass} ${a.kr} unlock`);
  assert.deepEqual(hints(out), ['keyrack: unlocked 2 keys (from .keyrack.team) for 8h', 'keyrack: +DB_URL']);
  assert.deepEqual(await envOf(a.s, ['DB_URL', 'API_TOKEN']), { DB_URL: DB2, API_TOKEN: TOKEN });
  await A.git(['commit', '-q', '-am', 'remove bob, rotate DB_URL'], aProj);
  await A.git(['push', '-q', remote, 'HEAD:main'], aProj);

  // B pulls: the rekeyed file does not open with B's identity, neither in keyrack nor in age.
  await B.git(['pull', '-q', remote, 'main'], bProj);
  assert.deepEqual(recipientLines(join(bProj, '.keyrack.team')), [`recipient alice ${A.recipient}`, `recipient carol ${C.recipient}`]);
  out = await b.s.run(`${b.kr} lock`);
  assert.deepEqual(hints(out), ['keyrack: locked 2 keys', 'keyrack: -API_TOKEN -DB_URL; 2 keys locked (DB_URL, API_TOKEN) — run keyrack unlock']);
  assert.equal(await b.s.statusAfter(`${b.pass} ${b.kr} unlock`), 2);
  r = await B.kr(['unlock'], { cwd: bProj, input: `${B.pass}\n` });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /DB_URL: \/.*\/\.keyrack\.team:\d+: you are not a recipient of this team file: send the line keyrack whoami prints to a member/);
  assert.doesNotMatch(r.stderr, /unlocked/);
  assert.deepEqual(await envOf(b.s, ['DB_URL', 'API_TOKEN']), { DB_URL: undefined, API_TOKEN: undefined });
  const bId = await plainIdentity(B, join(B.sb.dir, 'bob.id'));
  const cId = await plainIdentity(C, join(C.sb.dir, 'carol.id'));
  const pulled = readFileSync(join(bProj, '.keyrack.team'), 'utf8');
  for (const k of ['DB_URL', 'API_TOKEN']) {
    const armored = join(B.sb.dir, `${k}.age`);
    writeFileSync(armored, armorOf(pulled, k));
    const byBob = await run('age', ['-d', '-i', bId, armored], {});
    assert.notEqual(byBob.code, 0, `age opened ${k} with bob's identity`);
    const byCarol = await run('age', ['-d', '-i', cId, armored], {});
    assert.equal(byCarol.code, 0, byCarol.stderr);
    assert.equal(byCarol.stdout, k === 'DB_URL' ? DB2 : TOKEN);
  }

  // C pulls: the shell keeps the old value until C unlocks; then the hook marks the change.
  await C.git(['pull', '-q', remote, 'main'], cProj);
  out = await c.s.run(':');
  assert.deepEqual(hints(out), []);
  assert.deepEqual(await envOf(c.s, ['DB_URL']), { DB_URL: DB1 });
  out = await c.s.run(`${c.pass} ${c.kr} unlock`);
  assert.deepEqual(hints(out), ['keyrack: unlocked 2 keys (from .keyrack.team) for 8h', 'keyrack: ~DB_URL']);
  assert.deepEqual(await envOf(c.s, ['DB_URL', 'API_TOKEN']), { DB_URL: DB2, API_TOKEN: TOKEN });
  const cExec = join(C.sb.dir, 'exec.env');
  await c.s.run(`env -u DB_URL -u API_TOKEN ${c.kr} exec --no-mask -- env -0 > ${cExec}`);
  assert.deepEqual(execEnv(cExec, ['DB_URL', 'API_TOKEN']), { DB_URL: DB2, API_TOKEN: TOKEN });
});
