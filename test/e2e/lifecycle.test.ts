/**
 * Day two (issue 15, item 5): the passphrase changes (`passwd`), a backup the real
 * age CLI opens, a restore into a fresh HOME that refuses to replace a setup without
 * --force, and `install.sh --uninstall`. Passphrases are typed at real terminals
 * (test/pty.ts) where keyrack or age asks on one, and piped where keyrack reads stdin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEYRACK, ROOT, keyrack, requireTool, run, sandbox, type Sandbox } from '../helpers.ts';
import { Pty } from '../pty.ts';
import { snapshot } from '../snapshot.ts';
import { files } from '../../src/paths.ts';

const OLD = 'old pässphrase';
const NEW = 'new passphrase 2';
const SECRET = 'secure-value-8d1f';
const DIRECT = 'direct-value-77c2';

async function ok(sb: Sandbox, args: string[], input = ''): Promise<string> {
  const r = await keyrack(args, { env: sb.env, input });
  assert.equal(r.code, 0, `keyrack ${args.join(' ')}: ${r.stderr}`);
  return r.stderr;
}

/** A HOME with an identity (passphrase OLD), an os.secure and an os.direct key. */
async function setUp(): Promise<Sandbox> {
  const sb = sandbox();
  await ok(sb, ['init'], `${OLD}\n`);
  await ok(sb, ['set', 'SEC'], `${SECRET}\n`);
  await ok(sb, ['set', 'DIR', '--vault', 'os.direct'], `${DIRECT}\n`);
  return sb;
}

/** Whether `passphrase` unlocks SEC (then locked again). */
async function opens(sb: Sandbox, passphrase: string): Promise<boolean> {
  const r = await keyrack(['unlock', 'SEC'], { env: sb.env, input: `${passphrase}\n` });
  await keyrack(['lock'], { env: sb.env });
  return r.code === 0;
}

test('passwd on a terminal: the current passphrase, the new one twice; the identity alone is re-encrypted, and the old one stops working', async (t) => {
  const sb = await setUp();
  t.after(() => sb.cleanup());
  const keyFile = readFileSync(files.secureKey('SEC', sb.env));
  const recipient = readFileSync(files.recipient(sb.env));
  const pty = new Pty([process.execPath, KEYRACK, 'passwd'], { env: sb.env });
  await pty.expect('Current os.secure passphrase: ');
  pty.write(`${OLD}\r`);
  await pty.expect('New os.secure passphrase: ');
  pty.write(`${NEW}\r`);
  await pty.expect('Same passphrase again: ');
  pty.write(`${NEW}\r`);
  assert.equal(await pty.exited, 0, pty.output);
  assert.match(pty.output, /keyrack: changed the os\.secure passphrase/);
  for (const p of [OLD, NEW]) assert.ok(!pty.output.includes(p), 'never echoed');
  assert.deepEqual(readFileSync(files.secureKey('SEC', sb.env)), keyFile, 'the keys are untouched');
  assert.deepEqual(readFileSync(files.recipient(sb.env)), recipient);
  assert.equal(statSync(files.identity(sb.env)).mode & 0o777, 0o600);
  assert.equal(await opens(sb, OLD), false, 'the old passphrase stops working');
  assert.equal(await opens(sb, NEW), true);

  // A wrong current passphrase is said at once, before a new one is typed.
  const wrong = new Pty([process.execPath, KEYRACK, 'passwd'], { env: sb.env });
  await wrong.expect('Current os.secure passphrase: ');
  wrong.write('not it\r');
  assert.equal(await wrong.exited, 2);
  assert.match(wrong.output, /wrong passphrase/);
  assert.doesNotMatch(wrong.output, /New os\.secure passphrase/);
});

test('passwd from stdin: exactly three lines (current, new, new); anything else changes nothing', async (t) => {
  const sb = await setUp();
  t.after(() => sb.cleanup());
  const before = readFileSync(files.identity(sb.env));
  for (const [input, why] of [[`${OLD}\n${NEW}\nother\n`, /lines 2 and 3 of stdin\) differ/], [`${OLD}\n${NEW}\n`, /stdin has 2 lines/],
    [`wrong\n${NEW}\n${NEW}\n`, /wrong passphrase/], [`${OLD}\n${OLD}\n${OLD}\n`, /the new passphrase is the old one/]] as const) {
    const r = await keyrack(['passwd'], { env: sb.env, input });
    assert.equal(r.code, 2, input);
    assert.match(r.stderr, why, input);
    assert.deepEqual(readFileSync(files.identity(sb.env)), before, 'nothing changed');
  }
  await ok(sb, ['passwd'], `${OLD}\n${NEW}\n${NEW}\n`);
  assert.equal(await opens(sb, NEW), true);
  assert.equal(await opens(sb, OLD), false);
});

/** Runs age in a pty (it reads passphrases from the terminal only), answering its prompt. */
async function ageDecrypt(file: string, out: string, passphrase: string): Promise<void> {
  const pty = new Pty(['age', '-d', '-o', out, file]);
  await pty.expect(/passphrase[^:]*: /i);
  pty.write(`${passphrase}\r`);
  assert.equal(await pty.exited, 0, pty.output);
}

test('backup: one age file under the passphrase, that the real age CLI opens; restore brings it all into a fresh HOME', async (t) => {
  if (!requireTool('age') || !requireTool('tar')) return t.skip('age or tar missing');
  const sb = await setUp();
  t.after(() => sb.cleanup());
  const file = join(sb.dir, 'keys.backup');
  // Not a terminal: one line of stdin, checked against the identity first.
  const wrong = await keyrack(['backup', file], { env: sb.env, input: 'wrong\n' });
  assert.equal(wrong.code, 2);
  assert.equal(existsSync(file), false, 'no file for a wrong passphrase');
  await ok(sb, ['backup', file], `${OLD}\n`);
  assert.equal(lstatSync(file).mode & 0o777, 0o600);
  const raw = readFileSync(file);
  assert.ok(raw.subarray(0, 21).toString() === 'age-encryption.org/v1', 'an age file');
  for (const v of [SECRET, DIRECT]) assert.equal(raw.includes(Buffer.from(v)), false, 'no value in the clear');
  assert.match((await keyrack(['backup', file], { env: sb.env, input: `${OLD}\n` })).stderr, /exists; a backup never replaces a file/);

  // The real age opens it with the passphrase; inside, a tar of keyrack's own files.
  const tarFile = join(sb.dir, 'keys.tar');
  await ageDecrypt(file, tarFile, OLD);
  const list = await run('tar', ['-tf', tarFile], {});
  assert.deepEqual(list.stdout.trim().split('\n').sort(), ['keyrack-backup/BACKUP', 'keyrack-backup/direct.json', 'keyrack-backup/registry.json',
    'keyrack-backup/secure/identity.age', 'keyrack-backup/secure/keys/SEC.age', 'keyrack-backup/secure/recipient.txt']);
  const registry = await run('tar', ['-xOf', tarFile, 'keyrack-backup/registry.json'], {});
  assert.deepEqual(JSON.parse(registry.stdout), JSON.parse(readFileSync(files.registry(sb.env), 'utf8')));

  // A fresh HOME: everything back, the same passphrase opens it.
  const fresh = sandbox();
  t.after(() => fresh.cleanup());
  const bad = await keyrack(['restore', file], { env: fresh.env, input: 'wrong\n' });
  assert.equal(bad.code, 2);
  assert.deepEqual(snapshot(fresh.home), {}, 'a wrong passphrase writes nothing');
  const restored = await ok(fresh, ['restore', file], `${OLD}\n`);
  assert.match(restored, /restored 2 keys from /);
  assert.equal((await keyrack(['get', 'DIR'], { env: fresh.env })).stdout, `${DIRECT}\n`);
  await ok(fresh, ['unlock', 'SEC'], `${OLD}\n`);
  assert.equal((await keyrack(['get', 'SEC'], { env: fresh.env })).stdout, `${SECRET}\n`);
  await ok(fresh, ['set', 'AFTER'], 'after\n'); // new keys seal to the restored identity
  await ok(fresh, ['lock']);
  await ok(fresh, ['unlock', 'AFTER'], `${OLD}\n`);
  assert.equal((await keyrack(['get', 'AFTER'], { env: fresh.env })).stdout, 'after\n');

  // An existing setup is never replaced without --force; with it, it is, whole.
  const before = snapshot(fresh.home);
  const refused = await keyrack(['restore', file], { env: fresh.env, input: `${OLD}\n` });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /this HOME has a keyrack setup already \(~\/\.local\/share\/keyrack\/secure\/identity\.age, .*add --force/);
  assert.deepEqual(snapshot(fresh.home), before, 'nothing changed');
  await ok(fresh, ['restore', '--force', file], `${OLD}\n`);
  const names = (await keyrack(['list', '--names'], { env: fresh.env })).stdout;
  assert.equal(names, 'DIR\nSEC\n', 'AFTER, only in this HOME, is gone: the backup\'s setup replaced it');
  assert.equal((await keyrack(['get', 'AFTER'], { env: fresh.env })).code, 2, 'and the daemon no longer serves it');
  await keyrack(['daemon', 'stop'], { env: fresh.env });
});

test('restore refuses what is not a keyrack backup, and names no value', async (t) => {
  if (!requireTool('age')) return t.skip('age missing');
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const plain = join(sb.dir, 'plain');
  writeFileSync(plain, 'just text\n');
  const r = await keyrack(['restore', plain], { env: sb.env, input: 'x\n' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /is not a passphrase-encrypted age file/);
  // An age file of something else (made by the real age, with a passphrase from its terminal).
  const other = join(sb.dir, 'other.age');
  const pty = new Pty(['age', '-p', '-o', other, plain]);
  for (let i = 0; i < 2; i++) {
    await pty.expect(/passphrase[^:]*: /i);
    pty.write('pw\r');
  }
  assert.equal(await pty.exited, 0, pty.output);
  const notTar = await keyrack(['restore', other], { env: sb.env, input: 'pw\n' });
  assert.equal(notTar.code, 2);
  assert.match(notTar.stderr, /is not a keyrack backup/);
  assert.deepEqual(snapshot(sb.home), {});
});

test('install.sh --uninstall: the daemon stopped, its keyrack link gone, your keys left where they are and said so', async (t) => {
  const sb = await setUp();
  t.after(() => sb.cleanup());
  const prefix = join(sb.dir, 'prefix');
  mkdirSync(join(prefix, 'bin'), { recursive: true });
  symlinkSync(join(ROOT, 'dist', 'keyrack.mjs'), join(prefix, 'bin', 'keyrack'));
  writeFileSync(join(sb.home, '.bashrc'), 'eval "$(keyrack hook bash)"\n');
  await ok(sb, ['unlock', 'SEC'], `${OLD}\n`);
  const r = await run('bash', [join(ROOT, 'install.sh'), '--uninstall'], { env: { ...sb.env, PREFIX: prefix } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(existsSync(join(prefix, 'bin', 'keyrack')), false, 'the link is gone');
  assert.match(r.stderr, /daemon stopped/);
  assert.equal((await keyrack(['daemon', 'status'], { env: sb.env })).code, 2, 'no daemon: its memory is gone');
  assert.match(r.stderr, /remove the keyrack hook line from \S+\/\.bashrc/);
  assert.match(r.stderr, /nothing of yours was deleted: your keys are in /);
  assert.ok(existsSync(files.identity(sb.env)) && existsSync(files.registry(sb.env)), 'no key deleted');
  const again = await run('bash', [join(ROOT, 'install.sh'), '--uninstall'], { env: { ...sb.env, PREFIX: prefix } });
  assert.match(again.stderr, /no keyrack in /);
});
