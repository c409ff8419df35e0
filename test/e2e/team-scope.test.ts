/**
 * What a team file may do, and only that: its values reach a shell only beside an
 * allowed manifest and after an unlock; they never fill a variable an alias could
 * not (the value is the repo's, not yours); two projects' values of the same name
 * never stand in for each other; a value is never written in plaintext, not even to
 * a temp file (strace); and a file changed while a team command works is not
 * overwritten.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEYRACK, requireTool, ROOT, run } from '../helpers.ts';
import { Pty } from '../pty.ts';
import { line, person, type Person } from '../team-fixtures.ts';

let me: Person;
before(async () => {
  me = await person('me');
});
after(() => me.sb.cleanup());

async function ok(args: string[], cwd: string, input?: string): Promise<string> {
  const r = await me.kr(args, { cwd, input });
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stderr;
}

/** A project whose manifest lists `manifest` and whose team file holds `values`. */
async function project(name: string, manifest: string, values: Record<string, string>): Promise<string> {
  const dir = join(me.sb.dir, name);
  mkdirSync(dir);
  writeFileSync(join(dir, '.keyrack'), manifest);
  await ok(['team', 'init'], dir);
  for (const [k, v] of Object.entries(values)) await ok(['team', 'set', k], dir, line(v));
  return dir;
}

const exported = async (dir: string) => (await me.kr(['export', 'json'], { cwd: dir }));

test('team values need an allowed manifest and an unlock; deny withdraws them', async () => {
  const dir = await project('trust', 'TOKEN\n', { TOKEN: 'team token' });
  // Not allowed: unlock does not read the team file, and says why.
  let r = await me.kr(['unlock'], { cwd: dir, input: `${me.pass}\n` });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /TOKEN is absent — run keyrack set TOKEN \(the \.keyrack\.team beside \.keyrack is read once you keyrack allow it\)/);
  await ok(['allow'], dir);
  r = await exported(dir);
  assert.deepEqual(JSON.parse(r.stdout).set, {});
  assert.match(r.stderr, /TOKEN locked — run keyrack unlock/);
  await ok(['unlock'], dir, `${me.pass}\n`);
  assert.deepEqual(JSON.parse((await exported(dir)).stdout).set, { TOKEN: 'team token' });
  await ok(['deny'], dir);
  assert.deepEqual(JSON.parse((await exported(dir)).stdout).set, {});
  await ok(['daemon', 'stop'], dir);
});

test('a team value never fills a variable an alias could not; your own key of that name does', async () => {
  const proxy = 'http://attacker.example:3128';
  const dir = await project('families', 'HTTPS_PROXY\nGIT_SSH_COMMAND_X?\nSAFE\n', { HTTPS_PROXY: proxy, SAFE: 'fine' });
  await ok(['allow'], dir);
  await ok(['unlock'], dir, `${me.pass}\n`);
  const r = await exported(dir);
  assert.deepEqual(JSON.parse(r.stdout).set, { SAFE: 'fine' });
  assert.match(r.stderr, /HTTPS_PROXY: a team value cannot fill HTTPS_PROXY — it is read by .*; only your own key named HTTPS_PROXY may set it \(keyrack set HTTPS_PROXY\)/);
  assert.equal(r.stderr.includes(proxy), false);
  const exec = await me.kr(['exec', '--', 'true'], { cwd: dir });
  assert.equal(exec.code, 2);
  assert.match(exec.stderr, /a team value cannot fill HTTPS_PROXY/);
  const st = JSON.parse((await me.kr(['status', '--json'], { cwd: dir })).stdout) as { manifest: { entries: Array<{ key: string; state: string; source: string | null }> } };
  assert.deepEqual(st.manifest.entries.find((e) => e.key === 'HTTPS_PROXY'), { env: 'HTTPS_PROXY', key: 'HTTPS_PROXY', optional: false, state: 'refused', source: 'team' });
  // The daemon's fast path gives the same answer.
  const fast = await run(join(ROOT, 'native', 'build', 'Release', 'keyrack-fast'), ['/bin/false', KEYRACK, 'export', 'json'], { env: { ...me.sb.env, PWD: dir }, cwd: dir });
  assert.deepEqual(JSON.parse(fast.stdout).set, { SAFE: 'fine' });
  assert.match(fast.stderr, /a team value cannot fill HTTPS_PROXY/);
  // Your own key of that name fills it (and wins over the team's).
  await ok(['set', 'HTTPS_PROXY', '--vault', 'os.direct'], dir, line('http://mine:8080'));
  assert.deepEqual(JSON.parse((await exported(dir)).stdout).set, { HTTPS_PROXY: 'http://mine:8080', SAFE: 'fine' });
  await ok(['rm', 'HTTPS_PROXY'], dir);
  await ok(['daemon', 'stop'], dir);
});

test('two projects with a team value of the same name: each gets its own, never the other\'s', async () => {
  const one = await project('one', 'DB_URL\n', { DB_URL: 'db of project one' });
  const two = await project('two', 'DB_URL\n', { DB_URL: 'db of project two' });
  await ok(['allow'], one);
  await ok(['allow'], two);
  await ok(['unlock'], one, `${me.pass}\n`);
  assert.deepEqual(JSON.parse((await exported(one)).stdout).set, { DB_URL: 'db of project one' });
  let r = await exported(two);
  assert.deepEqual(JSON.parse(r.stdout).set, {}, 'project one\'s value is not project two\'s');
  assert.match(r.stderr, /DB_URL locked/);
  assert.equal((await me.kr(['get', 'DB_URL'], { cwd: two })).code, 2);
  await ok(['unlock'], two, `${me.pass}\n`);
  assert.deepEqual(JSON.parse((await exported(two)).stdout).set, { DB_URL: 'db of project two' });
  assert.deepEqual(JSON.parse((await exported(one)).stdout).set, { DB_URL: 'db of project one' });
  // lock DB_URL in one project leaves the other's.
  await ok(['lock', 'DB_URL'], one);
  assert.deepEqual(JSON.parse((await exported(one)).stdout).set, {});
  assert.deepEqual(JSON.parse((await exported(two)).stdout).set, { DB_URL: 'db of project two' });
  // status lists the held value as the key it is, from the team.
  r = await me.kr(['status'], { cwd: two });
  assert.match(r.stdout, /^ {2}DB_URL \(team\) {2}\d/m);
  await ok(['daemon', 'stop'], one);
});

test('team set, add, rekey and unlock never write a value in plaintext, anywhere (strace)', async (t) => {
  if (!requireTool('strace')) return t.skip('strace missing');
  const value = `plain-${'Q7'.repeat(16)}-value`;
  const other = await person('other');
  t.after(() => other.sb.cleanup());
  const dir = await project('hygiene', 'V\n', {});
  await ok(['allow'], dir);
  const trace = join(me.sb.dir, 'team.strace');
  const kr = `${process.execPath} ${KEYRACK}`;
  // The value comes from a file, so that not even this script's argv holds it.
  const input = join(me.sb.dir, 'value.txt');
  writeFileSync(input, line(value), { mode: 0o600 });
  const script = [
    `${kr} team set V < ${input}`,
    `printf '%s\\n' '${me.pass}' | ${kr} team add other ${other.recipient}`,
    `printf '%s\\n' '${me.pass}' | ${kr} team rekey`,
    `printf '%s\\n' '${me.pass}' | ${kr} unlock`,
    `${kr} daemon stop`,
  ].join(' && ');
  const r = await run('strace', ['-f', '-y', '-s', '1000000', '-e', 'trace=execve,write,writev,pwrite64,pwritev,sendto,sendmsg', '-o', trace, 'bash', '-c', script], { env: me.sb.env, cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const lines = readFileSync(trace, 'utf8').split('\n');
  // Only the unlock's put to the daemon, over its socket, may carry the value.
  const carrying = lines.filter((l) => l.includes(value));
  assert.ok(carrying.length >= 1, 'the trace sees the put (else this check could not fail)');
  for (const l of carrying) assert.match(l, /^\d+ +write\(\d+<(socket|UNIX-STREAM):[^>]*>, /, `plaintext outside the daemon's socket:\n${l.slice(0, 300)}`);
  assert.equal(readFileSync(join(realpathSync(dir), '.keyrack.team'), 'utf8').includes(value), false);
});

test('a team file changed while team set waits for its value is not overwritten', async () => {
  const dir = await project('race', 'A\nB\n', { A: 'a' });
  const team = join(realpathSync(dir), '.keyrack.team');
  const pty = new Pty([process.execPath, KEYRACK, 'team', 'set', 'B'], { env: { ...me.sb.env, PWD: dir }, cwd: dir });
  await pty.expect('Value for B (hidden): ');
  // Meanwhile, another change lands (another team command, a git pull).
  await ok(['team', 'set', 'A'], dir, line('a2'));
  const changed = readFileSync(team);
  pty.write('b\r');
  assert.equal(await pty.exited, 2);
  assert.match(pty.output, /\.keyrack\.team changed while keyrack worked on it \(another team command, or a git pull\?\); nothing written — run it again/);
  assert.ok(readFileSync(team).equals(changed), 'the other change is kept');
});
