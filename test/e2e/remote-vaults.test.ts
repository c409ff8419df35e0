/**
 * The remote vaults end to end, through the CLI and the daemon: set stores only
 * references, unlock fetches through op and the real AWS CLI v2, the daemon
 * refreshes aws credentials, and op's failures reach the user with exit 2.
 * Fixtures and fakes: test/vault-fixtures.ts; the vaults alone: test/unit/vault-*.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { keyrack, sandbox } from '../helpers.ts';
import {
  requireAwsV2, NOT_INSTALLED, SECRETS, SIGN_IN_HINT, alive, argvLog, assertNoSecretInArgv, awsSandbox, type AwsBox,
} from '../vault-fixtures.ts';

const HAVE_AWS = requireAwsV2();

describe('end to end: keyrack set / unlock / get / status', { skip: !HAVE_AWS }, () => {
  let box: AwsBox;
  let fx: string;
  const opSecrets = { 'op://Work/npm/token': 'npm_tok\'en "x"', 'op://Work/gh/Deploy/pat': 'ghp_pat\nline2' };

  before(() => {
    box = awsSandbox(240, { KEYRACK_REFRESH_WINDOW: '232s' }, sandbox());
    fx = join(box.sb.dir, 'op.json');
    writeFileSync(fx, JSON.stringify({ secrets: opSecrets }));
    box.sb.env.FAKE_OP_FIXTURE = fx;
    for (const v of Object.values(opSecrets)) SECRETS.add(v);
  });
  after(() => {
    assertNoSecretInArgv(box.log);
    box.sb.cleanup();
  });

  const kr = (args: string[]) => keyrack(args, { env: box.sb.env });
  const statusKeys = async () => {
    const r = await kr(['status', '--json']);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { keys: Array<{ name: string; expiresAt: number; refresh: boolean; vars?: string[] }> }).keys;
  };

  test('set stores references only; bad references and profiles are refused with exit 2', async () => {
    for (const args of [
      ['set', 'NPM', '--vault', '1password', '--ref', 'op://Work/npm/token'],
      ['set', 'GH', '--vault', '1password', '--ref', 'op://Work/gh/Deploy/pat'],
      ['set', 'AWS_STATIC', '--vault', 'aws.sso', '--profile', 'static'],
      ['set', 'AWS_PROC', '--vault', 'aws.sso', '--profile', 'proc'],
      ['set', 'AWS_SSO', '--vault', 'aws.sso', '--profile', 'ssonew'],
    ]) {
      const r = await kr(args);
      assert.equal(r.code, 0, r.stderr);
    }
    let r = await kr(['set', 'BAD', '--vault', '1password', '--ref', 'op://Work/npm']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /2 path segments/);
    r = await kr(['set', 'BAD', '--vault', 'aws.sso', '--profile=-x']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /must not start with "-"/);
    const reg = readFileSync(join(box.sb.env.XDG_CONFIG_HOME!, 'keyrack', 'registry.json'), 'utf8');
    for (const v of Object.values(opSecrets)) assert.ok(!reg.includes(v));
    assert.deepEqual(JSON.parse(reg).keys.NPM, { vault: '1password', ref: 'op://Work/npm/token' });
  });

  test('unlock 1password and aws.sso keys; get prints them; status shows expiry = min(TTL, credentials)', async () => {
    const r = await kr(['unlock', 'NPM', 'GH', 'AWS_STATIC', 'AWS_PROC']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await kr(['get', 'NPM'])).stdout, 'npm_tok\'en "x"\n');
    assert.equal((await kr(['get', 'GH'])).stdout, 'ghp_pat\nline2\n');
    assert.equal((await kr(['get', 'AWS_STATIC'])).stdout, 'AWS_ACCESS_KEY_ID=AKIASTATICKEY000001\nAWS_SECRET_ACCESS_KEY=static/secret+key=1\nAWS_SESSION_TOKEN=\n');
    const proc = (await kr(['get', 'AWS_PROC'])).stdout;
    const expiration = /AWS_CREDENTIAL_EXPIRATION=(\S+)/.exec(proc)![1]!;
    const keys = await statusKeys();
    const p = keys.find((k) => k.name === 'AWS_PROC')!;
    assert.equal(p.expiresAt, Date.parse(expiration));
    assert.equal(p.refresh, true);
    assert.deepEqual(p.vars, ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_CREDENTIAL_EXPIRATION']);
    const s = keys.find((k) => k.name === 'AWS_STATIC')!;
    assert.equal(s.refresh, false);
    assert.ok(s.expiresAt > Date.now() + 7 * 3600_000, 'static keys live for the default TTL');
    const n = keys.find((k) => k.name === 'NPM')!;
    assert.equal(n.refresh, false);
  });

  test('the daemon refreshes aws credentials before they expire, and get shows the new ones', async () => {
    const before = (await kr(['get', 'AWS_PROC'])).stdout;
    assert.match(before, /AWS_SECRET_ACCESS_KEY=procsecret-\d+/);
    // Expiry is 240 s out and the refresh window 232 s: the daemon refreshes within ~8 s.
    let now = before;
    for (let i = 0; i < 60 && now === before; i++) {
      await sleep(1000);
      now = (await kr(['get', 'AWS_PROC'])).stdout;
    }
    assert.notEqual(now, before, 'the daemon did not refresh AWS_PROC');
    assert.match(now, /AWS_SECRET_ACCESS_KEY=procsecret-\d+\nAWS_SESSION_TOKEN=proctoken-\d+/);
    const exp = Date.parse(/AWS_CREDENTIAL_EXPIRATION=(\S+)/.exec(now)![1]!);
    assert.equal((await statusKeys()).find((k) => k.name === 'AWS_PROC')!.expiresAt, exp);
  });

  test('an expired SSO session runs aws sso login, shows its output, then unlocks', async () => {
    const r = await kr(['unlock', 'AWS_SSO']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /running aws sso login --profile ssonew — finish it in your browser/);
    assert.match(r.stderr, /Then enter the code:\n\n[0-9A-F]{4}-[0-9A-F]{4}\n/);
    assert.match(r.stderr, /Successfully logged into Start URL: https:\/\/keyrack-corp\.awsapps\.com\/start/);
    const got = await kr(['get', 'AWS_SSO']);
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stdout, /^AWS_ACCESS_KEY_ID=ASIA[0-9A-F]{16}\n/);
    for (const m of got.stdout.matchAll(/^AWS_(?:SECRET_ACCESS_KEY|SESSION_TOKEN)=(.+)$/gm)) SECRETS.add(m[1]!);
  });

  test('op not signed in: exit 2 with the exact command to run; other keys still unlock', async () => {
    writeFileSync(fx, JSON.stringify({ signedIn: false, secrets: opSecrets }));
    try {
      await kr(['lock']);
      const r = await kr(['unlock', 'NPM', 'AWS_STATIC']);
      assert.equal(r.code, 2);
      assert.ok(r.stderr.includes(`NPM: 1password: op is not signed in: ${SIGN_IN_HINT}`), r.stderr);
      assert.equal((await kr(['get', 'AWS_STATIC'])).code, 0);
      assert.equal((await kr(['get', 'NPM'])).code, 2);
    } finally {
      writeFileSync(fx, JSON.stringify({ secrets: opSecrets }));
    }
  });

  test('op missing: exit 2 and says so', async () => {
    const empty = join(box.sb.dir, 'empty-path');
    mkdirSync(empty, { recursive: true });
    const env = { ...box.sb.env, PATH: empty };
    const r = await keyrack(['unlock', 'NPM'], { env });
    assert.equal(r.code, 2);
    assert.ok(r.stderr.includes(`NPM: 1password: ${NOT_INSTALLED}`), r.stderr);
  });

  test('a hung op is killed and reported; the other keys unlock and the daemon stays healthy', async () => {
    writeFileSync(fx, JSON.stringify({ hang: true, secrets: opSecrets }));
    try {
      await kr(['lock']);
      const env = { ...box.sb.env, KEYRACK_OP_TIMEOUT: '2' };
      const r = await keyrack(['unlock', 'NPM', 'GH', 'AWS_STATIC'], { env });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /NPM: 1password \(op:\/\/Work\/npm\/token\): op timed out after 2s \(killed\)/);
      assert.match(r.stderr, /GH: 1password \(op:\/\/Work\/gh\/Deploy\/pat\): op timed out after 2s \(killed\)/);
      assert.equal((await kr(['get', 'AWS_STATIC'])).code, 0);
      const st = await kr(['status', '--json']);
      assert.equal(st.code, 0);
      for (const c of argvLog(box.log).filter((c) => c.tool === 'op')) assert.equal(alive(c.pid!), false, `op ${c.argv?.join(' ')} still running`);
    } finally {
      writeFileSync(fx, JSON.stringify({ secrets: opSecrets }));
    }
  });
});
