/**
 * The team file is content from a cloned repo: bad input is a clear error naming
 * the file, the line and the key, exit 2, nothing written, nothing of it echoed —
 * in every command that reads it (team list/set/rekey, unlock, status, export by
 * the CLI and by the daemon's fast path, exec). A real merge conflict from a real
 * git merge, a recipient with a typo, a link, a FIFO, a file too large.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEYRACK, requireTool, ROOT, run, type Result } from '../helpers.ts';
import { line, person, type Person } from '../team-fixtures.ts';

const FAST = join(ROOT, 'native', 'build', 'Release', 'keyrack-fast');
const git = requireTool('git');
const SECRET = 'ghp_N0tInAnyMessage0123456789abcdefXYZ';

let me: Person;
let bob: Person;
before(async () => {
  [me, bob] = await Promise.all([person('me'), person('bob')]);
});
after(() => {
  me.sb.cleanup();
  bob.sb.cleanup();
});

/** A project with a manifest (allowed) and a team file holding K and L for me and bob. */
async function project(name: string): Promise<{ dir: string; team: string }> {
  const dir = join(me.sb.dir, name);
  mkdirSync(dir);
  writeFileSync(join(dir, '.keyrack'), 'K\nL\n');
  for (const [args, input] of [[['team', 'init', '--label', 'me']], [['team', 'add', 'bob', bob.recipient]],
    [['team', 'set', 'K'], line('k1')], [['team', 'set', 'L'], line('l1')], [['allow']]] as Array<[string[], string?]>) {
    const r = await me.kr(args, { cwd: dir, input });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  assert.equal((await me.kr(['daemon', 'start'])).code, 0); // for the hook's fast path
  return { dir, team: join(realpathSync(dir), '.keyrack.team') };
}

/** Every command that reads the team file, in `dir`. */
async function everyReader(dir: string): Promise<Record<string, Result>> {
  const o = { cwd: dir };
  const env = { ...me.sb.env, PWD: dir };
  const out: Record<string, Result> = {
    list: await me.kr(['team', 'list'], o),
    set: await me.kr(['team', 'set', 'NEW'], { ...o, input: line(SECRET) }),
    rekey: await me.kr(['team', 'rekey'], { ...o, input: `${me.pass}\n` }),
    unlock: await me.kr(['unlock'], { ...o, input: `${me.pass}\n` }),
    status: await me.kr(['status'], o),
    export: await me.kr(['export', 'bash'], o),
    exec: await me.kr(['exec', '--', 'true'], o),
  };
  // The daemon's answer to the hook (/bin/false as node: no fallback to the CLI).
  out.fast = await run(FAST, ['/bin/false', KEYRACK, 'export', 'bash'], { env, cwd: dir });
  return out;
}

/** Each reader refused with `why` (a RegExp on stderr or status's stdout), exit 2 where it must act; the file unchanged. */
function assertRefused(r: Record<string, Result>, why: RegExp, file: string, before: Buffer): void {
  for (const [name, res] of Object.entries(r)) {
    const said = name === 'status' ? res.stdout : res.stderr;
    assert.match(said, why, `${name}: ${said}`);
    assert.equal(`${res.stdout}${res.stderr}`.includes(SECRET), false, `${name} echoed the file`);
    if (name === 'export' || name === 'fast') {
      assert.equal(res.code, 0, `${name}: the prompt never breaks`);
      assert.doesNotMatch(res.stdout, /export K=/);
    } else {
      assert.equal(res.code, 2, `${name}: exit 2 (${res.stderr})`);
    }
  }
  assert.ok(readFileSync(file).equals(before), 'nothing written');
}

test('a real merge conflict: located in the value it splits, in every reader; nothing written', { skip: !git }, async () => {
  const { dir, team } = await project('conflict');
  await me.git(['init', '-q'], dir);
  await me.git(['add', '.'], dir);
  await me.git(['commit', '-q', '-m', 'base'], dir);
  await me.git(['checkout', '-q', '-b', 'other'], dir);
  assert.equal((await me.kr(['team', 'set', 'K'], { cwd: dir, input: line('k-other') })).code, 0);
  await me.git(['commit', '-q', '-am', 'other K'], dir);
  await me.git(['checkout', '-q', 'main'], dir);
  assert.equal((await me.kr(['team', 'set', 'K'], { cwd: dir, input: line('k-main') })).code, 0);
  await me.git(['commit', '-q', '-am', 'main K'], dir);
  const merge = await run('git', ['-c', 'user.name=me', '-c', 'user.email=me@example.com', 'merge', 'other'], { env: me.sb.env, cwd: dir });
  assert.match(merge.stdout, /CONFLICT \(content\): Merge conflict in \.keyrack\.team/);
  assert.notEqual(merge.code, 0, 'git sees a conflict');
  const text = readFileSync(team, 'utf8');
  const at = text.split('\n').findIndex((l) => l.startsWith('<<<<<<< ')) + 1;
  assert.ok(at > 0, text);
  const where = new RegExp(`${team.replaceAll('.', '\\.')}:${at}: a merge conflict marker \\(<<<<<<<\\) inside the value of K: keep one side`);
  assertRefused(await everyReader(dir), where, team, readFileSync(team));
  // Resolved by taking one side: everything works again.
  execFileSync('git', ['checkout', '--theirs', '.keyrack.team'], { cwd: dir, env: me.sb.env });
  const r = await me.kr(['unlock'], { cwd: dir, input: `${me.pass}\n` });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await me.kr(['get', 'K'], { cwd: dir })).stdout, 'k-other\n');
});

test('a recipient line with a typo, and a bad recipient given to team add: located, nothing written', async () => {
  const { dir, team } = await project('typo');
  const good = readFileSync(team, 'utf8');
  const at = good.split('\n').findIndex((l) => l.startsWith('recipient bob ')) + 1;
  // One character of bob's recipient mistyped (the checksum catches it), and a line that is not a recipient.
  const typo = good.replace(bob.recipient, bob.recipient.slice(0, 20) + (bob.recipient[20] === 'q' ? 'p' : 'q') + bob.recipient.slice(21));
  writeFileSync(team, typo);
  assertRefused(await everyReader(dir), new RegExp(`\\.keyrack\\.team:${at}: the recipient of bob is not an age recipient: its checksum is wrong`), team, Buffer.from(typo));
  writeFileSync(team, good.replace('keyrack-team v1\n', `keyrack-team v1\nDB_URL=${SECRET}\n`));
  assertRefused(await everyReader(dir), /\.keyrack\.team:\d+: not a recipient line, a key line or a comment/, team, readFileSync(team));

  writeFileSync(team, good);
  for (const bad of [bob.recipient.slice(0, -1), 'ssh-ed25519', SECRET, `${bob.recipient.slice(0, 10)}B${bob.recipient.slice(11)}`]) {
    const r = await me.kr(['team', 'add', 'carol', bad], { cwd: dir, input: `${me.pass}\n` });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^keyrack: team add carol: the recipient is (not an age recipient|refused)/);
    assert.equal(r.stderr.includes(bad), false, 'the argument is not echoed');
    assert.equal(readFileSync(team, 'utf8'), good);
  }
  const dup = await me.kr(['team', 'add', 'bobby', bob.recipient], { cwd: dir });
  assert.equal(dup.code, 2);
  assert.match(dup.stderr, /that recipient is already in .*, as bob/);
  const last = await me.kr(['team', 'rm', 'bob'], { cwd: dir, input: `${me.pass}\n` });
  assert.equal(last.code, 0, last.stderr);
  const none = await me.kr(['team', 'rm', 'me'], { cwd: dir, input: `${me.pass}\n` });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /me is the last recipient/);
});

test('a linked, FIFO or oversized .keyrack.team is refused without being read, by the CLI and the daemon', async () => {
  const { dir, team } = await project('links');
  const credentials = join(me.sb.dir, 'credentials');
  writeFileSync(credentials, `keyrack-team v1\nrecipient x ${SECRET}\n`);
  const fifo = join(me.sb.dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  for (const [what, make, why] of [
    ['a link to credentials', () => symlinkSync(credentials, team), /\.keyrack\.team: is a symbolic link; keyrack reads only a regular \.keyrack\.team file/],
    ['a link to a FIFO', () => symlinkSync(fifo, team), /is a symbolic link/],
    ['a FIFO', () => execFileSync('mkfifo', [team]), /\.keyrack\.team: is a FIFO/],
    ['a 64 MB file', () => { writeFileSync(team, ''); truncateSync(team, 64 << 20); }, /\.keyrack\.team: is larger than 4194304 bytes/],
  ] as Array<[string, () => void, RegExp]>) {
    rmSync(team, { force: true });
    make();
    const r = await everyReader(dir);
    // `team set` and `rekey` must not replace what stands there either.
    for (const name of ['list', 'set', 'unlock', 'status', 'export', 'exec', 'fast']) {
      const res = r[name]!;
      assert.match(name === 'status' ? res.stdout : res.stderr, why, `${what}: ${name}`);
      assert.equal(`${res.stdout}${res.stderr}`.includes(SECRET), false, `${what}: ${name} echoed the target`);
    }
    assert.equal(readFileSync(credentials, 'utf8').includes(SECRET), true, 'the link target is untouched');
  }
});
