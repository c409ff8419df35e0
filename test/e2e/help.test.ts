/**
 * Help that helps (issue 15, item 7): `keyrack help [CMD]` and `CMD --help` say the
 * same, from the command table; each command has a one-line description and lists
 * its valid values (shells, daemon actions, vault names); a bare `keyrack` prints a
 * short usage on stderr and exits 2; `export --help` is help, also through the
 * native launcher; an unknown option is named as typed (never camelCased).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { KEYRACK, ROOT, keyrack, run, sandbox } from '../helpers.ts';

const FAST = join(ROOT, 'native', 'build', 'Release', 'keyrack-fast');
const sb = sandbox();
test.after(() => sb.cleanup());
const kr = (...args: string[]) => keyrack(args, { env: sb.env });

test('bare keyrack: a short usage on stderr, exit 2; keyrack help: every command with its one line', async () => {
  const bare = await kr();
  assert.equal(bare.code, 2);
  assert.equal(bare.stdout, '');
  assert.match(bare.stderr, /^usage: keyrack COMMAND/);
  assert.ok(bare.stderr.split('\n').length <= 5, 'short');
  const all = await kr('help');
  assert.equal(all.code, 0);
  const rows = [...all.stdout.matchAll(/^ {2}([a-z]+) {2,}(\S.*)$/gm)].map((m): [string, string] => [m[1]!, m[2]!]);
  assert.ok(rows.length >= 23, all.stdout);
  for (const c of ['init', 'passwd', 'backup', 'restore', 'mv', 'unlock', 'help']) assert.ok(rows.some(([n]) => n === c), `${c} is listed`);
  assert.deepEqual((await kr('--help')).stdout, all.stdout);

  for (const [name, summary] of rows) {
    const h = await kr('help', name);
    assert.equal(h.code, 0, name);
    const lines = h.stdout.split('\n');
    assert.match(lines[0]!, new RegExp(`^usage: keyrack ${name}\\b`), name);
    assert.equal(lines[2], `${summary}.`, `${name}: the one-line description`);
    if (name !== 'exec') assert.deepEqual((await kr(name, '--help')).stdout, h.stdout, `${name} --help is keyrack help ${name}`);
  }
});

test('each command\'s help lists its valid values: shells, daemon actions, vault names', async () => {
  assert.match((await kr('help', 'hook')).stdout, /SHELL is one of:\n {2}bash, zsh, fish/);
  assert.match((await kr('help', 'export')).stdout, /bash, zsh, fish, tcsh, elvish, json, direnv/);
  const daemon = (await kr('help', 'daemon')).stdout;
  for (const a of ['start', 'stop', 'status', 'run']) assert.match(daemon, new RegExp(`^ {2}${a} +\\S`, 'm'), a);
  for (const cmd of ['set', 'mv', 'import']) {
    const h = (await kr('help', cmd)).stdout;
    for (const v of ['os.secure', 'os.direct']) assert.match(h, new RegExp(`^ {2}${v.replace('.', '\\.')} +\\S`, 'm'), `${cmd}: ${v}`);
  }
  assert.match((await kr('help', 'set')).stdout, /^ {2}1password +\S[\s\S]*^ {2}aws\.sso +\S/m);
});

test('export --help is help, from the CLI and through the native launcher', async () => {
  for (const r of [await kr('export', '--help'), await run(FAST, [process.execPath, KEYRACK, 'export', '--help'], { env: sb.env })]) {
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^usage: keyrack export SHELL\n/);
    assert.doesNotMatch(r.stderr, /unknown shell/);
  }
});

test('options are named as typed: an unknown one is refused with its own name, a near one suggested', async () => {
  const r = await kr('init', '--change-passphrase');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /init: unknown option --change-passphrase/);
  assert.doesNotMatch(r.stderr, /changePassphrase/);
  assert.match(r.stderr, /keyrack passwd changes the passphrase/, 'and where the thing it was after lives');
  const near = await kr('unlock', '--tll', '1h');
  assert.match(near.stderr, /unknown option --tll — did you mean --ttl\?/);
  const missing = await kr('set', 'K', '--vault');
  assert.match(missing.stderr, /--vault needs a value \(--vault V: os\.secure, os\.direct, /);
  const typo = await kr('unlcok');
  assert.match(typo.stderr, /unknown command 'unlcok' — did you mean 'keyrack unlock'\?/);
  const noSuch = await kr('help', 'nosuch');
  assert.equal(noSuch.code, 2);
});

test('a value typed as an argument is refused without being echoed', async () => {
  const r = await kr('set', 'K', 'ghp_s3cr3tValueTypedOnTheCommandLine');
  assert.equal(r.code, 2);
  assert.doesNotMatch(r.stderr, /ghp_/);
  assert.match(r.stderr, /a value is never an argument/);
});
