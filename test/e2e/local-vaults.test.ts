/**
 * The local vaults end to end: the built keyrack in an isolated HOME for init,
 * set, get, list and rm; os.secure's fetch is driven from TypeScript (reading it
 * through the CLI needs the daemon, which has its own tests). One init per file:
 * each costs a real scrypt.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { keyrack, sandbox, tilde, type Sandbox } from '../helpers.ts';
import { snapshot } from '../snapshot.ts';
import { files } from '../../src/paths.ts';
import { vault as secure } from '../../src/vaults/secure.ts';
import { UserError } from '../../src/errors.ts';
import type { FetchContext } from '../../src/vaults/vault.ts';

const PASS = 'correct horse battery staple';
const TRICKY = `it's "quoted" $HOME \`x\` \\ é 🔑\n\ttab\r`;

function mode(p: string): string {
  return (statSync(p).mode & 0o777).toString(8);
}

function ctx(sb: Sandbox, passphrase: string, calls: { n: number }): FetchContext {
  return {
    env: sb.env,
    passphrase: async () => { calls.n++; return passphrase; },
    progress: () => {},
    interactive: false,
  };
}

describe('local vaults', () => {
  let sb: Sandbox;
  before(async () => {
    sb = sandbox();
    const r = await keyrack(['init'], { env: sb.env, input: `${PASS}\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '', 'a message, on stderr');
    assert.match(r.stderr, /^keyrack: created the os\.secure identity ~\/\S+identity\.age \(encrypted with your passphrase\); public key age1[0-9a-z]+$/m);
  });
  after(() => sb.cleanup());

  test('init writes a private identity and refuses to run again', async () => {
    const id = files.identity(sb.env);
    const before = readFileSync(id);
    assert.equal(mode(id), '600');
    assert.equal(mode(files.recipient(sb.env)), '600');
    assert.equal(mode(files.secureDir(sb.env)), '700');
    assert.match(readFileSync(files.recipient(sb.env), 'utf8'), /^age1[0-9a-z]+\n$/);
    assert.ok(before.subarray(0, 21).toString() === 'age-encryption.org/v1', 'a binary age file');

    const again = await keyrack(['init'], { env: sb.env, input: 'other passphrase\n' });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists .*identity\.age.*will not replace it/);
    assert.deepEqual(readFileSync(id), before);
  });

  test('os.direct: set, get, list, rm', async () => {
    const set = await keyrack(['set', 'PLAIN', '--vault', 'os.direct'], { env: sb.env, input: `${TRICKY}\n` });
    assert.equal(set.code, 0, set.stderr);
    const get = await keyrack(['get', 'PLAIN'], { env: sb.env });
    assert.equal(get.code, 0, get.stderr);
    assert.equal(get.stdout, `${TRICKY}\n`, 'the value exactly, then one newline');
    assert.equal(mode(files.directVault(sb.env)), '600');
    assert.equal(mode(join(sb.env.XDG_DATA_HOME!, 'keyrack')), '700');
    assert.equal(mode(join(sb.env.XDG_CONFIG_HOME!, 'keyrack')), '700');
    assert.equal(mode(files.registry(sb.env)), '600');

    const list = await keyrack(['list', '--json'], { env: sb.env });
    assert.equal(list.code, 0, list.stderr);
    const parsed = JSON.parse(list.stdout) as { version: number; keys: unknown[] };
    assert.equal(parsed.version, 2);
    assert.deepEqual(parsed.keys.find((k) => (k as { name: string }).name === 'PLAIN'), { name: 'PLAIN', vault: 'os.direct', state: 'ready' });
    assert.ok(!list.stdout.includes('quoted'), 'list never prints values');

    const rm = await keyrack(['rm', 'PLAIN'], { env: sb.env });
    assert.equal(rm.code, 0, rm.stderr);
    assert.ok(!readFileSync(files.directVault(sb.env), 'utf8').includes('quoted'), 'the value left the vault file');
    const gone = await keyrack(['get', 'PLAIN'], { env: sb.env });
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, /PLAIN is absent — run keyrack set PLAIN/);
    const rmAgain = await keyrack(['rm', 'PLAIN'], { env: sb.env });
    assert.equal(rmAgain.code, 2);
  });

  test('os.secure: set needs no passphrase, writes a private age file, fetch opens it once', async () => {
    const a = await keyrack(['set', 'SEC_A'], { env: sb.env, input: `${TRICKY}\n` });
    assert.equal(a.code, 0, a.stderr);
    const b = await keyrack(['set', 'SEC_B'], { env: sb.env, input: 'second' });
    assert.equal(b.code, 0, b.stderr);
    const keyFile = files.secureKey('SEC_A', sb.env);
    assert.equal(mode(keyFile), '600');
    assert.equal(mode(join(files.secureDir(sb.env), 'keys')), '700');
    assert.ok(!readFileSync(keyFile).includes(Buffer.from('quoted')), 'the value is not in the file in the clear');

    const calls = { n: 0 };
    const got = await secure.fetch([
      { name: 'SEC_A', entry: { vault: 'os.secure' } },
      { name: 'SEC_B', entry: { vault: 'os.secure' } },
      { name: 'SEC_MISSING', entry: { vault: 'os.secure' } },
    ], ctx(sb, PASS, calls));
    assert.equal(calls.n, 1, 'one passphrase for all keys');
    assert.deepEqual(got.get('SEC_A'), { value: TRICKY });
    assert.deepEqual(got.get('SEC_B'), { value: 'second' });
    const missing = got.get('SEC_MISSING');
    assert.ok(missing instanceof UserError && /SEC_MISSING is absent: \S+SEC_MISSING\.age is missing — run keyrack set SEC_MISSING/.test(missing.message));

    // Without the daemon holding it, get says how to unlock it.
    const get = await keyrack(['get', 'SEC_A'], { env: sb.env });
    assert.equal(get.code, 2);
    assert.match(get.stderr, /SEC_A is locked — run keyrack unlock SEC_A/);
    assert.equal(get.stdout, '');

    const list = await keyrack(['list'], { env: sb.env });
    assert.match(list.stdout, /^KEY\s+VAULT\s+SOURCE\s+STATE$/m);
    assert.match(list.stdout, /^SEC_A\s+os\.secure\s+-\s+locked$/m);
  });

  test('os.secure: a wrong passphrase fails with exit-2 error and touches no file', async () => {
    const before = snapshot(sb.home);
    const calls = { n: 0 };
    await assert.rejects(
      secure.fetch([{ name: 'SEC_A', entry: { vault: 'os.secure' } }], ctx(sb, 'not the passphrase', calls)),
      (e: unknown) => e instanceof UserError && e.message === 'wrong passphrase' && e.exitCode === 2,
    );
    assert.equal(calls.n, 1);
    assert.deepEqual(snapshot(sb.home), before);
  });

  test('through the daemon: unlock, get, list; set and rm drop the held value', async () => {
    const vaultFiles = () => ({ ...snapshot(sb.env.XDG_DATA_HOME!), ...snapshot(sb.env.XDG_CONFIG_HOME!) });
    const before = vaultFiles();
    const wrong = await keyrack(['unlock', 'SEC_A'], { env: sb.env, input: 'not it\n' });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /wrong passphrase/);
    assert.deepEqual(vaultFiles(), before, 'vault and registry files unchanged');
    assert.equal((await keyrack(['get', 'SEC_A'], { env: sb.env })).code, 2);

    const ok = await keyrack(['unlock', 'SEC_A', 'SEC_B'], { env: sb.env, input: `${PASS}\n` });
    assert.equal(ok.code, 0, ok.stderr);
    const get = await keyrack(['get', 'SEC_A'], { env: sb.env });
    assert.equal(get.code, 0, get.stderr);
    assert.equal(get.stdout, `${TRICKY}\n`);
    assert.match((await keyrack(['list'], { env: sb.env })).stdout, /^SEC_A\s+os\.secure\s+-\s+ready$/m);

    const reset = await keyrack(['set', 'SEC_A'], { env: sb.env, input: 'rotated' });
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stderr, /held the old value of SEC_A; locked it/);
    assert.equal((await keyrack(['get', 'SEC_A'], { env: sb.env })).code, 2, 'the old value is not served');

    const rm = await keyrack(['rm', 'SEC_B'], { env: sb.env });
    assert.equal(rm.code, 0, rm.stderr);
    assert.match(rm.stderr, /and from the daemon/);
    assert.ok(!existsSync(files.secureKey('SEC_B', sb.env)));
    const list = JSON.parse((await keyrack(['list', '--json'], { env: sb.env })).stdout) as { keys: Array<{ name: string }> };
    assert.ok(!list.keys.some((k) => k.name === 'SEC_B'));
    // Put SEC_B back for the tests below.
    assert.equal((await keyrack(['set', 'SEC_B'], { env: sb.env, input: 'second' })).code, 0);
    await keyrack(['daemon', 'stop'], { env: sb.env });
  });

  test('a missing recipient file is named, with how to recreate it', async () => {
    const rec = files.recipient(sb.env);
    const saved = readFileSync(rec);
    rmSync(rec);
    try {
      const r = await keyrack(['set', 'NEEDS_RECIPIENT'], { env: sb.env, input: 'v' });
      assert.equal(r.code, 2);
      assert.ok(r.stderr.includes(`${tilde(rec, sb.home)} is missing`), r.stderr);
      assert.match(r.stderr, /age-keygen -y/);
      assert.ok(!existsSync(files.secureKey('NEEDS_RECIPIENT', sb.env)));
    } finally {
      writeFileSync(rec, saved, { mode: 0o600 });
    }
  });

  test('moving a key to another vault removes the old copy', async () => {
    // Out of os.secure into plaintext: a downgrade, asked for explicitly.
    const r = await keyrack(['set', 'SEC_B', '--vault', 'os.direct', '--downgrade'], { env: sb.env, input: 'now plain' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /moved from os\.secure/);
    assert.ok(!existsSync(files.secureKey('SEC_B', sb.env)));
    assert.equal((await keyrack(['get', 'SEC_B'], { env: sb.env })).stdout, 'now plain\n');
  });

  test('NUL, invalid UTF-8 and empty values are refused and nothing is stored', async () => {
    const cases: Array<[Buffer, RegExp]> = [
      [Buffer.from('a\0b'), /contains a NUL byte/],
      [Buffer.from([0x61, 0xff, 0x62]), /is not valid UTF-8 \(at byte 1\)/],
      [Buffer.from([0xc3]), /is not valid UTF-8/],
      [Buffer.from('\n'), /is empty/],
    ];
    for (const vault of ['os.secure', 'os.direct']) {
      for (const [input, why] of cases) {
        const before = snapshot(sb.home);
        const r = await keyrack(['set', 'BAD', '--vault', vault], { env: sb.env, input });
        assert.equal(r.code, 2, `${vault} ${why}`);
        assert.match(r.stderr, why);
        assert.match(r.stderr, /nothing stored/);
        assert.deepEqual(snapshot(sb.home), before, `${vault} ${why}: nothing on disk changed`);
      }
    }
  });

  test('remote vaults keep only the reference', async () => {
    const r = await keyrack(['set', 'GH', '--vault', '1password', '--ref', 'op://Private/GitHub/token'], { env: sb.env });
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse((await keyrack(['list', '--json'], { env: sb.env })).stdout) as { keys: Array<Record<string, string>> };
    assert.deepEqual(list.keys.find((k) => k.name === 'GH'), { name: 'GH', vault: '1password', ref: 'op://Private/GitHub/token', state: 'locked' });
    const noRef = await keyrack(['set', 'GH2', '--vault', '1password'], { env: sb.env });
    assert.equal(noRef.code, 2);
    assert.match(noRef.stderr, /needs --ref/);
    const badVault = await keyrack(['set', 'X', '--vault', 'os.nope'], { env: sb.env });
    assert.equal(badVault.code, 2);
    assert.match(badVault.stderr, /unknown vault 'os.nope'/);
    for (const name of ['9lives', '__proto__', 'a/b', 'x'.repeat(129)]) {
      const badName = await keyrack(['set', name, '--vault', 'os.direct'], { env: sb.env, input: 'v' });
      assert.equal(badName.code, 2, name);
    }
  });

  test('a registry or vault file that fails to parse is reported with its path and left as it is', async () => {
    const reg = files.registry(sb.env);
    const good = readFileSync(reg);
    const garbage = Buffer.from('{"version": 1, "keys": {"A": oops\n');
    writeFileSync(reg, garbage);
    try {
      const before = snapshot(sb.home);
      const r = await keyrack(['set', 'NEW', '--vault', 'os.direct'], { env: sb.env, input: 'v' });
      assert.equal(r.code, 2);
      assert.ok(r.stderr.includes(`${tilde(reg, sb.home)} is not valid JSON`), r.stderr);
      assert.deepEqual(readFileSync(reg), garbage, 'byte-identical');
      assert.deepEqual(snapshot(sb.home), before, 'nothing stored anywhere');
      for (const args of [['list'], ['get', 'SEC_A'], ['rm', 'SEC_A']]) {
        const x = await keyrack(args, { env: sb.env });
        assert.equal(x.code, 2, args.join(' '));
        assert.ok(x.stderr.includes(tilde(reg, sb.home)), x.stderr);
      }
      assert.deepEqual(readFileSync(reg), garbage);
    } finally {
      writeFileSync(reg, good);
    }

    const direct = files.directVault(sb.env);
    const dgood = readFileSync(direct);
    const dbad = Buffer.from('{"version": 1, "values": [');
    writeFileSync(direct, dbad);
    try {
      const r = await keyrack(['set', 'NEW', '--vault', 'os.direct'], { env: sb.env, input: 'v' });
      assert.equal(r.code, 2);
      assert.ok(r.stderr.includes(`${tilde(direct, sb.home)} is not valid JSON`), r.stderr);
      assert.deepEqual(readFileSync(direct), dbad);
      assert.ok(!readFileSync(reg, 'utf8').includes('"NEW"'), 'not registered either');
    } finally {
      writeFileSync(direct, dgood);
    }
  });
});

describe('before init', () => {
  test('os.secure set says to run init first; os.direct works', async () => {
    const sb = sandbox();
    try {
      const r = await keyrack(['set', 'K'], { env: sb.env, input: 'v' });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /run keyrack init first/);
      assert.ok(!existsSync(files.registry(sb.env)) || !readFileSync(files.registry(sb.env), 'utf8').includes('"K"'));
      const d = await keyrack(['set', 'K', '--vault', 'os.direct'], { env: sb.env, input: 'v' });
      assert.equal(d.code, 0, d.stderr);
      const empty = sandbox();
      try {
        const l = await keyrack(['list', '--json'], { env: empty.env });
        assert.equal(l.code, 0);
        assert.deepEqual(JSON.parse(l.stdout), { version: 2, keys: [] });
      } finally {
        empty.cleanup();
      }
    } finally {
      sb.cleanup();
    }
  });

  test('init refuses an empty passphrase', async () => {
    const sb = sandbox();
    try {
      mkdirSync(sb.env.XDG_DATA_HOME!, { recursive: true });
      const r = await keyrack(['init'], { env: sb.env, input: '\n' });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /passphrase is empty/);
      assert.ok(!existsSync(files.identity(sb.env)));
    } finally {
      sb.cleanup();
    }
  });
});
