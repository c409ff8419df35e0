/**
 * The pass vault against the real `pass` and `gpg` from Debian, with test keys
 * generated in the sandbox. A thin wrapper before the real pass on PATH logs
 * every argv, so the tests also see how often pass ran and that no value was in
 * an argv. Covers the round trip (unlock, a real bash hook, exec), `#NAME`
 * lines, and the distinct failures: absent, folder, no store, no such line,
 * pass missing, a locked key, an entry not encrypted to you, a hung pinentry.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyrack, requireTool, run, sandbox, type Sandbox } from '../helpers.ts';
import { importPublic, killAgent, makeKey, usePinentry, type GpgKey } from '../gpg-fixture.ts';
import { roundTrip } from '../vault-roundtrip.ts';

const PASS = requireTool('pass');
const GPG = requireTool('gpg');

describe('pass vault (real pass and gpg)', { skip: !PASS || !GPG }, () => {
  let sb: Sandbox;
  let gnupg: string;
  let log: string;
  let key: GpgKey;
  const secrets = ['pw-of-db ✓ "q" $x', 'bob', 'abc def', 'api-pass', 'lockedpw', 'foreign-pw'];
  const kr = (args: string[], env: NodeJS.ProcessEnv = sb.env, input?: string) => keyrack(args, { env, input });
  const pass = async (args: string[], input?: string, env = sb.env) => {
    const r = await run(PASS as string, args, { env, input });
    assert.equal(r.code, 0, `pass ${args.join(' ')}: ${r.stderr}`);
  };
  const passRuns = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]) : []);

  before(async () => {
    sb = sandbox();
    gnupg = join(sb.home, '.gnupg');
    log = join(sb.dir, 'pass-argv.log');
    const bin = join(sb.dir, 'bin');
    mkdirSync(bin);
    // Logs the argv, then runs the real pass with it.
    writeFileSync(join(bin, 'pass'), `#!/bin/sh\nnode -e 'require("fs").appendFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)) + "\\n")' '${log}' "$@"\nexec '${PASS}' "$@"\n`);
    chmodSync(join(bin, 'pass'), 0o755);
    Object.assign(sb.env, { GNUPGHOME: gnupg, PATH: `${bin}:${sb.env.PATH}` });
    key = await makeKey(gnupg, 'keyrack test <test@keyrack.invalid>');
    await pass(['init', key.fpr]);
    await pass(['insert', '-m', 'team/db'], `${secrets[0]}\nuser: ${secrets[1]}\nAPI Key:   ${secrets[2]}  \nurl: https://db.example\n`);
    await pass(['insert', '-m', 'api'], `${secrets[3]}\n`);
    for (const s of secrets) assert.ok(!readFileSync(join(sb.home, '.password-store', 'team', 'db.gpg')).includes(s), 'the store is encrypted');
  });
  after(async () => {
    await killAgent(gnupg);
    sb.cleanup();
  });

  test('round trip: the first line, NAME: lines (one decryption per entry), through unlock, the hook and exec', async () => {
    for (const [k, ref] of [['DB', 'team/db'], ['DB_USER', 'team/db#user'], ['DB_API', 'team/db#api key'], ['API', 'api']]) {
      const r = await kr(['set', k!, '--vault', 'pass', '--ref', ref!]);
      assert.equal(r.code, 0, r.stderr);
    }
    rmSync(log, { force: true });
    await roundTrip(sb, { DB: secrets[0]!, DB_USER: secrets[1]!, DB_API: secrets[2]!, API: secrets[3]! });
    const shows = passRuns().filter((a) => a[0] === 'show');
    assert.deepEqual(shows.map((a) => a.join(' ')).sort(), ['show -- api', 'show -- team/db']);
    const argv = readFileSync(log, 'utf8');
    for (const s of secrets) assert.ok(!argv.includes(s), 'a value reached an argv');
  });

  test('set refuses references that can never name an entry', async () => {
    for (const [ref, re] of [['../etc/passwd', /empty, '\.' or '\.\.' path segment/], ['team/', /no leading or trailing/], ['/abs', /no leading or trailing/],
      ['team/db#', /NAME of a "NAME: value" line/], ['a\tb', /control character/]] as const) {
      const r = await kr(['set', 'BAD', '--vault', 'pass', '--ref', ref]);
      assert.equal(r.code, 2, ref);
      assert.match(r.stderr, re);
    }
    const r = await kr(['set', 'BAD', '--vault', 'pass']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--vault pass needs --ref path\/in\/store/);
  });

  test('absent entry, a folder, no such line, no store, pass missing: each its own message', async () => {
    for (const [k, ref] of [['NOPE', 'team/nope'], ['FOLDER', 'team'], ['NOLINE', 'team/db#password']]) {
      assert.equal((await kr(['set', k!, '--vault', 'pass', '--ref', ref!])).code, 0);
    }
    let r = await kr(['unlock', 'NOPE', 'FOLDER', 'NOLINE']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /NOPE: pass \(team\/nope\): team\/nope is not in the password store \(.*\.password-store\); add it with pass insert team\/nope, or fix the reference/);
    assert.match(r.stderr, /FOLDER: pass \(team\): team is a folder in the password store, not an entry/);
    assert.match(r.stderr, /NOLINE: pass \(team\/db\): it has no "password: …" line after the first/);
    r = await kr(['unlock', 'NOPE'], { ...sb.env, PASSWORD_STORE_DIR: join(sb.dir, 'no-store') });
    assert.match(r.stderr, /NOPE: pass \(team\/nope\): there is no password store at .*no-store; create one with pass init GPG-ID/);
    const empty = join(sb.dir, 'empty-path');
    mkdirSync(empty, { recursive: true });
    r = await kr(['unlock', 'NOPE'], { ...sb.env, PATH: empty });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /NOPE: pass: pass is not installed — apt-get install pass/);
  });

  test('an entry not encrypted to any of your keys is told apart from a locked key', async () => {
    // A teammate's key: their public half only, in our keyring.
    const other = join(sb.dir, 'other-gnupg');
    const theirs = await makeKey(other, 'teammate <mate@keyrack.invalid>');
    await importPublic(other, gnupg, theirs);
    await pass(['init', '-p', 'theirs', theirs.fpr]);
    await pass(['insert', '-m', 'theirs/x'], `${secrets[5]}\n`);
    await killAgent(other);
    assert.equal((await kr(['set', 'FOREIGN', '--vault', 'pass', '--ref', 'theirs/x'])).code, 0);
    const r = await kr(['unlock', 'FOREIGN']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`FOREIGN: pass \\(theirs/x\\): the entry is not encrypted to any gpg key you hold \\(it is for ${theirs.subkey}\\); ask whoever shares the store to add your key`));
  });

  test('a locked key whose passphrase no pinentry can ask; a pinentry that hangs is killed at the timeout', async () => {
    const lockedHome = join(sb.dir, 'locked-gnupg');
    const locked = await makeKey(lockedHome, 'locked <locked@keyrack.invalid>', 'the key passphrase');
    const env = { ...sb.env, GNUPGHOME: lockedHome, PASSWORD_STORE_DIR: join(sb.dir, 'locked-store') };
    await pass(['init', locked.fpr], undefined, env);
    await pass(['insert', '-m', 'x'], `${secrets[4]}\n`, env);
    assert.equal((await kr(['set', 'LOCKED', '--vault', 'pass', '--ref', 'x'])).code, 0);
    await usePinentry(lockedHome, 'fails');
    let r = await kr(['unlock', 'LOCKED'], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /LOCKED: pass \(x\): your gpg key is locked and gpg could not ask its passphrase \(no pinentry\); run pass show x once in a terminal/);

    await usePinentry(lockedHome, 'hangs');
    r = await kr(['unlock', 'LOCKED'], { ...env, KEYRACK_PASS_TIMEOUT: '2' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /LOCKED: pass \(x\): pass show timed out after 2s \(killed\); is gpg waiting for your key's passphrase\?/);
    // The whole process group went: no gpg is left waiting on the agent for this store.
    const ps = await run('ps', ['-eo', 'args'], {});
    assert.ok(!ps.stdout.split('\n').some((l) => l.includes(env.PASSWORD_STORE_DIR) && l.includes('gpg')), ps.stdout);
    await killAgent(lockedHome);
  });

  test('doctor checks pass and gpg because pass keys are registered', async () => {
    const r = await kr(['doctor']);
    assert.match(r.stdout, /^ok {4}pass: .*\/pass$/m);
    assert.match(r.stdout, /^ok {4}gpg: .*\/gpg2?$/m);
  });
});
