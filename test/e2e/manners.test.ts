/**
 * Small manners of a day's use (issue 15, items 6 and 10), at real terminals where
 * it matters: unlock asks nothing when all it would unlock is held; exec finds out
 * that a command does not exist before asking a passphrase; Ctrl-C at a prompt
 * exits 130 and says "cancelled"; piped init takes exactly one line; `log
 * --refused` with nothing refused says so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KEYRACK, keyrack, sandbox, type Sandbox } from '../helpers.ts';
import { Pty } from '../pty.ts';
import { files } from '../../src/paths.ts';

const PASS = 'manners passphrase';

/** The exit code, or 'asked' when a passphrase prompt shows first (then the process is killed: nobody will type). */
async function exitUnasked(pty: Pty): Promise<number | 'asked'> {
  let code: number | undefined;
  void pty.exited.then((c) => { code = c; });
  for (;;) {
    if (code !== undefined) return code;
    if (/passphrase: /i.test(pty.output)) {
      pty.kill();
      return 'asked';
    }
    await sleep(10);
  }
}

async function setUp(): Promise<{ sb: Sandbox; proj: string }> {
  const sb = sandbox();
  for (const [args, input] of [[['init'], `${PASS}\n`], [['set', 'A'], 'a\n'], [['set', 'B'], 'b\n']] as const) {
    const r = await keyrack([...args], { env: sb.env, input });
    assert.equal(r.code, 0, r.stderr);
  }
  const proj = join(sb.dir, 'proj');
  mkdirSync(proj);
  writeFileSync(join(proj, '.keyrack'), 'A\n');
  assert.equal((await keyrack(['allow', proj], { env: sb.env })).code, 0);
  return { sb, proj };
}

test('unlock asks no passphrase when everything it would unlock is held; only for the rest otherwise', async (t) => {
  const { sb } = await setUp();
  t.after(() => sb.cleanup());
  assert.equal((await keyrack(['unlock', 'A'], { env: sb.env, input: `${PASS}\n` })).code, 0);
  const held = new Pty([process.execPath, KEYRACK, 'unlock', 'A'], { env: sb.env });
  assert.equal(await exitUnasked(held), 0, held.output);
  assert.match(held.output, /already unlocked: A \(\d+h[\dms]* left\) — keyrack lock it first to fetch it again/);

  const some = new Pty([process.execPath, KEYRACK, 'unlock', 'A', 'B'], { env: sb.env });
  await some.expect('os.secure passphrase: ');
  some.write(`${PASS}\r`);
  assert.equal(await some.exited, 0, some.output);
  assert.match(some.output, /already unlocked: A/);
  assert.match(some.output, /unlocked 1 key for 8h/, 'B alone was fetched');
});

test('exec -- a command that does not exist: exit 127 before any passphrase is asked', async (t) => {
  const { sb, proj } = await setUp();
  t.after(() => sb.cleanup());
  const pty = new Pty([process.execPath, KEYRACK, 'exec', '--', 'no-such-command-kr'], { env: { ...sb.env, PWD: proj }, cwd: proj });
  assert.equal(await exitUnasked(pty), 127, pty.output);
  assert.match(pty.output, /no-such-command-kr: command not found/);
  assert.doesNotMatch(pty.output, /passphrase|locked/);
});

test('Ctrl-C at a prompt exits 130 and says cancelled (not "nothing stored" during an unlock)', async (t) => {
  const { sb } = await setUp();
  t.after(() => sb.cleanup());
  const pty = new Pty([process.execPath, KEYRACK, 'unlock', 'A'], { env: sb.env });
  await pty.expect('os.secure passphrase: ');
  pty.write('half typed\x03');
  assert.equal(await pty.exited, 130, pty.output);
  assert.match(pty.output, /keyrack: cancelled\r?\n/);
  assert.doesNotMatch(pty.output, /nothing stored/);
});

test('piped init takes exactly one line: a second line is refused, and nothing is created', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const two = await keyrack(['init'], { env: sb.env, input: 'first\nsecond\n' });
  assert.equal(two.code, 2);
  assert.match(two.stderr, /stdin has 2 lines; the new passphrase is one line — nothing changed/);
  assert.equal(existsSync(files.identity(sb.env)), false);
  assert.equal((await keyrack(['init'], { env: sb.env, input: 'only\n' })).code, 0);
});

test('log --refused with nothing refused says so', async (t) => {
  const { sb } = await setUp();
  t.after(() => sb.cleanup());
  assert.equal((await keyrack(['unlock', 'A'], { env: sb.env, input: `${PASS}\n` })).code, 0);
  assert.equal((await keyrack(['get', 'A'], { env: sb.env })).code, 0); // a record, not a refusal
  const r = await keyrack(['log', '--refused'], { env: sb.env });
  assert.equal(r.code, 0);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'keyrack: no refused connections\n');
  assert.match((await keyrack(['log', '--refused', '--since', '1h'], { env: sb.env })).stderr, /no refused connections in the last 1h/);
  await keyrack(['daemon', 'stop'], { env: sb.env });
});
