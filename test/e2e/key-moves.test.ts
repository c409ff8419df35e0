/**
 * A key's vault is the user's choice (issue 15, item 5): `set` on a key you have
 * rotates its value where it is; a move into a vault that keeps plaintext (from set,
 * import or mv) needs --downgrade and warns; `mv` moves a key, value and all, in one
 * command; `rm` of a key an allowed manifest lists asks first on a terminal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEYRACK, keyrack, sandbox, type Sandbox } from '../helpers.ts';
import { Pty } from '../pty.ts';
import { snapshot } from '../snapshot.ts';
import { files } from '../../src/paths.ts';

const PASS = 'moves passphrase';

async function ok(sb: Sandbox, args: string[], input = ''): Promise<string> {
  const r = await keyrack(args, { env: sb.env, input });
  assert.equal(r.code, 0, `keyrack ${args.join(' ')}: ${r.stderr}`);
  return r.stderr;
}

const vaultOf = (sb: Sandbox, key: string): string | undefined =>
  (JSON.parse(readFileSync(files.registry(sb.env), 'utf8')) as { keys: Record<string, { vault: string }> }).keys[key]?.vault;

test('set on a key you have keeps its vault; into plaintext only with --downgrade, and a warning', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  await ok(sb, ['init'], `${PASS}\n`);
  await ok(sb, ['set', 'TMPKEY', '--vault', 'os.direct'], 'v1\n');
  const rotated = await ok(sb, ['set', 'TMPKEY'], 'v2\n');
  assert.equal(vaultOf(sb, 'TMPKEY'), 'os.direct', 'rotated where it is, not moved to os.secure');
  assert.doesNotMatch(rotated, /moved/);
  assert.equal((await keyrack(['get', 'TMPKEY'], { env: sb.env })).stdout, 'v2\n');

  await ok(sb, ['set', 'SECRET'], 'kept encrypted\n');
  const before = snapshot(sb.home);
  const refused = await keyrack(['set', 'SECRET', '--vault', 'os.direct'], { env: sb.env, input: 'now plain\n' });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /SECRET \(os\.secure\) — nothing changed; add --downgrade/);
  assert.deepEqual(snapshot(sb.home), before, 'nothing stored anywhere');
  const down = await ok(sb, ['set', 'SECRET', '--vault', 'os.direct', '--downgrade'], 'now plain\n');
  assert.match(down, /moved from os\.secure/);
  assert.match(down, /warning: SECRET was in os\.secure and is now plaintext in ~\/\.local\/share\/keyrack\/direct\.json/);
  assert.equal(vaultOf(sb, 'SECRET'), 'os.direct');

  // A reference key rotated without saying what to: a clear refusal, not a prompt for a value.
  await ok(sb, ['set', 'OP', '--vault', '1password', '--ref', 'op://V/item/field']);
  const ref = await keyrack(['set', 'OP'], { env: sb.env, input: 'x\n' });
  assert.equal(ref.code, 2);
  assert.match(ref.stderr, /OP is a 1password key, which keeps a reference, not a value: give --ref/);
});

test('import --force into os.direct does not silently turn os.secure keys into plaintext', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  await ok(sb, ['init'], `${PASS}\n`);
  await ok(sb, ['set', 'A'], 'secure a\n');
  const dotenv = join(sb.dir, 'x.env');
  writeFileSync(dotenv, 'A=plain a\nB=plain b\n');
  const before = snapshot(sb.home);
  const r = await keyrack(['import', dotenv, '--force', '--vault', 'os.direct'], { env: sb.env });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /A \(os\.secure\) — nothing changed; add --downgrade/);
  assert.deepEqual(snapshot(sb.home), before, 'all or nothing: B was not imported either');
  const down = await ok(sb, ['import', dotenv, '--force', '--vault', 'os.direct', '--downgrade']);
  assert.match(down, /warning: A was in os\.secure and is now plaintext/);
  assert.deepEqual([vaultOf(sb, 'A'), vaultOf(sb, 'B')], ['os.direct', 'os.direct']);
});

test('mv moves a key to another vault in one command: from the daemon when it holds it, else from its vault', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  await ok(sb, ['init'], `${PASS}\n`);
  await ok(sb, ['set', 'M', '--vault', 'os.direct'], 'the value\n');
  assert.match(await ok(sb, ['mv', 'M', '--vault', 'os.secure']), /moved M from os\.direct to os\.secure/);
  assert.equal(vaultOf(sb, 'M'), 'os.secure');
  assert.doesNotMatch(readFileSync(files.directVault(sb.env), 'utf8'), /the value/, 'the old copy is gone');
  await ok(sb, ['unlock', 'M'], `${PASS}\n`);
  assert.equal((await keyrack(['get', 'M'], { env: sb.env })).stdout, 'the value\n');

  // Into plaintext: refused without --downgrade; with it, the held value moves (no passphrase read: stdin is empty).
  const refused = await keyrack(['mv', 'M', '--vault', 'os.direct'], { env: sb.env });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /add --downgrade/);
  const moved = await ok(sb, ['mv', 'M', '--vault', 'os.direct', '--downgrade']);
  assert.match(moved, /moved M from os\.secure to os\.direct/);
  assert.match(moved, /warning: M was in os\.secure and is now plaintext/);
  assert.equal((await keyrack(['get', 'M'], { env: sb.env })).stdout, 'the value\n');

  // Not held: os.secure asks its passphrase (one line of stdin here).
  await ok(sb, ['mv', 'M', '--vault', 'os.secure']);
  await ok(sb, ['lock']);
  const wrong = await keyrack(['mv', 'M', '--vault', 'os.direct', '--downgrade'], { env: sb.env, input: 'wrong\n' });
  assert.equal(wrong.code, 2);
  assert.equal(vaultOf(sb, 'M'), 'os.secure', 'a wrong passphrase moves nothing');
  await ok(sb, ['mv', 'M', '--vault', 'os.direct', '--downgrade'], `${PASS}\n`);
  assert.equal((await keyrack(['get', 'M'], { env: sb.env })).stdout, 'the value\n');

  const same = await keyrack(['mv', 'M', '--vault', 'os.direct'], { env: sb.env });
  assert.match(same.stderr, /M is in os\.direct already/);
  const ref = await keyrack(['mv', 'M', '--vault', '1password'], { env: sb.env });
  assert.match(ref.stderr, /1password keeps a reference, not a value/);
  await keyrack(['daemon', 'stop'], { env: sb.env });
});

test('rm of a key an allowed manifest lists asks on a terminal (n keeps it, Ctrl-C cancels, y removes); a script is told', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  await ok(sb, ['set', 'USED', '--vault', 'os.direct'], 'u\n');
  await ok(sb, ['set', 'UNUSED', '--vault', 'os.direct'], 'u\n');
  const proj = join(sb.home, 'proj');
  mkdirSync(proj);
  writeFileSync(join(proj, '.keyrack'), 'USED\n');
  await ok(sb, ['allow', proj]);

  const ask = async (key: string, answer: string) => {
    const pty = new Pty([process.execPath, KEYRACK, 'rm', key], { env: sb.env });
    await pty.expect(`${key} is listed by ~/proj/.keyrack: remove it anyway? [y/N] `);
    pty.write(answer);
    return { code: await pty.exited, out: pty.output };
  };
  let r = await ask('USED', 'n');
  assert.equal(r.code, 2);
  assert.match(r.out, /kept USED; nothing removed/);
  r = await ask('USED', '\x03');
  assert.equal(r.code, 130);
  assert.match(r.out, /keyrack: cancelled/);
  assert.equal(vaultOf(sb, 'USED'), 'os.direct');
  r = await ask('USED', 'y');
  assert.equal(r.code, 0, r.out);
  assert.equal(vaultOf(sb, 'USED'), undefined);

  // Not listed: no question, even on a terminal.
  const quiet = new Pty([process.execPath, KEYRACK, 'rm', 'UNUSED'], { env: sb.env });
  assert.equal(await quiet.exited, 0);
  assert.doesNotMatch(quiet.output, /\[y\/N\]/);

  // Not a terminal: removed, and told.
  await ok(sb, ['set', 'USED', '--vault', 'os.direct'], 'u\n');
  assert.match(await ok(sb, ['rm', 'USED']), /note: USED is still listed by ~\/proj\/\.keyrack/);
});
