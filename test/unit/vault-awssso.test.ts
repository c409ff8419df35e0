/**
 * The aws.sso vault in-process: profile names, the CLI's output format, and the
 * REAL AWS CLI v2 through test/fakes/aws (see test/vault-fixtures.ts) — static
 * keys, credential_process with an expiry, SSO login, a hung aws, a v1 on PATH.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { vault as awssso, awsCliVersion, profileProblem } from '../../src/vaults/awssso.ts';
import { parseExport, resolveV2 } from '../../src/vaults/aws-cli.ts';
import { UserError } from '../../src/errors.ts';
import { requireAwsV2, SECRETS, alive, argvLog, assertNoSecretInArgv, awsSandbox, creds, ctxOf, errorOf, keysOf, FAKES } from '../vault-fixtures.ts';

const HAVE_AWS = requireAwsV2();

describe('aws.sso: profiles and output', () => {
  test('profile names are checked', () => {
    assert.equal(profileProblem('dev-admin'), null);
    assert.equal(awssso.validate!({ vault: 'aws.sso', profile: 'prod.ReadOnly_1' }), null);
    assert.match(profileProblem(undefined) ?? '', /needs --profile/);
    assert.match(profileProblem('a b') ?? '', /whitespace/);
    assert.match(profileProblem('a\u0007') ?? '', /control/);
    assert.match(profileProblem('--debug') ?? '', /must not start with "-"/);
    assert.match(profileProblem('x]y') ?? '', /bracket/);
  });

  test('env-no-export output is parsed strictly', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const ok = parseExport('AWS_ACCESS_KEY_ID=AKIA1\nAWS_SECRET_ACCESS_KEY=s/e+c=\nAWS_SESSION_TOKEN="tok"\nAWS_CREDENTIAL_EXPIRATION=2026-01-01T01:00:00.123456+00:00\n', now);
    assert.deepEqual(ok, {
      env: { AWS_ACCESS_KEY_ID: 'AKIA1', AWS_SECRET_ACCESS_KEY: 's/e+c=', AWS_SESSION_TOKEN: 'tok', AWS_CREDENTIAL_EXPIRATION: '2026-01-01T01:00:00.123456+00:00' },
      expiresAt: Date.parse('2026-01-01T01:00:00.123Z'),
    });
    assert.deepEqual(parseExport('AWS_ACCESS_KEY_ID=A\nAWS_SECRET_ACCESS_KEY=B\n', now), { env: { AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'B', AWS_SESSION_TOKEN: '' } });
    assert.equal(parseExport('AWS_ACCESS_KEY_ID=A\n', now), 'its output has no AWS_SECRET_ACCESS_KEY');
    assert.equal(parseExport('garbage secret-looking line\n', now), 'line 1 of its output is not NAME=value');
    assert.match(String(parseExport('AWS_ACCESS_KEY_ID=A\nAWS_SECRET_ACCESS_KEY=B\nAWS_CREDENTIAL_EXPIRATION=soon\n', now)), /not an ISO 8601 time/);
    assert.match(String(parseExport('AWS_ACCESS_KEY_ID=A\nAWS_SECRET_ACCESS_KEY=B\nAWS_CREDENTIAL_EXPIRATION=2025-12-31T23:00:00Z\n', now)), /expired at 2025-12-31T23:00:00.000Z/);
  });
});

describe('aws.sso: the real AWS CLI v2', { skip: !HAVE_AWS }, () => {
  test('static keys, and credential_process with an expiry; the user\'s AWS_* variables cannot redirect it', async () => {
    const { sb, log } = awsSandbox(1200, {
      AWS_PROFILE: 'sso', AWS_DEFAULT_PROFILE: 'sso',
      AWS_ACCESS_KEY_ID: 'AKIASHELLLEFTOVER', AWS_SECRET_ACCESS_KEY: 'shell-leftover', AWS_SESSION_TOKEN: 'shell-token',
    });
    try {
      const { ctx } = ctxOf(sb.env);
      const out = await awssso.fetch(keysOf({
        ST: { vault: 'aws.sso', profile: 'static' },
        PR: { vault: 'aws.sso', profile: 'proc' },
        PR2: { vault: 'aws.sso', profile: 'proc' },
      }), ctx);
      const st = creds(out.get('ST'));
      // No session token for long-term keys: an empty one masks the shell's stale 'shell-token'.
      assert.deepEqual(st.env, { AWS_ACCESS_KEY_ID: 'AKIASTATICKEY000001', AWS_SECRET_ACCESS_KEY: 'static/secret+key=1', AWS_SESSION_TOKEN: '' });
      assert.equal(st.expiresAt, undefined);
      const pr = creds(out.get('PR'));
      assert.match(pr.env.AWS_ACCESS_KEY_ID!, /^AKIAPROC\d{6}$/);
      assert.match(pr.env.AWS_SECRET_ACCESS_KEY!, /^procsecret-\d+$/);
      assert.match(pr.env.AWS_SESSION_TOKEN!, /^proctoken-\d+$/);
      assert.equal(pr.expiresAt, Date.parse(pr.env.AWS_CREDENTIAL_EXPIRATION!));
      assert.ok(pr.expiresAt! > Date.now() + 1100_000 && pr.expiresAt! < Date.now() + 1300_000);
      // Two keys on one profile: one aws run.
      assert.deepEqual(creds(out.get('PR2')).env, pr.env);
      const runs = argvLog(log).filter((c) => c.argv?.[1] === 'export-credentials').map((c) => c.argv);
      assert.deepEqual(runs.map((a) => a?.[3]).sort(), ['proc', 'static']);
      assert.deepEqual(runs[0]!.slice(0, 2).concat(runs[0]!.slice(4)), ['configure', 'export-credentials', '--format', 'env-no-export']);
      assertNoSecretInArgv(log);
    } finally {
      sb.cleanup();
    }
  });

  test('errors name the profile and carry aws\'s own words; a hung aws is killed, other profiles still unlock', async () => {
    const { sb, log } = awsSandbox(1200, { FAKE_AWS_HANG: 'static', KEYRACK_AWS_TIMEOUT: '12' });
    try {
      const { ctx } = ctxOf(sb.env);
      const out = await awssso.fetch(keysOf({
        ST: { vault: 'aws.sso', profile: 'static' },
        NOPE: { vault: 'aws.sso', profile: 'nope' },
        PR: { vault: 'aws.sso', profile: 'proc' },
      }), ctx);
      assert.equal(errorOf(out.get('ST')).message, 'aws.sso (profile static): aws configure export-credentials timed out after 12s (killed)');
      const e = errorOf(out.get('NOPE'));
      assert.ok(e instanceof UserError);
      assert.equal(e.message, 'aws.sso (profile nope): aws: Unable to retrieve credentials: The config profile (nope) could not be found');
      assert.match(creds(out.get('PR')).env.AWS_SECRET_ACCESS_KEY!, /^procsecret-/);
      const hung = argvLog(log).find((c) => c.argv?.includes('static'));
      assert.ok(hung?.pid);
      assert.equal(alive(hung.pid), false, 'the hung aws is still running');
    } finally {
      sb.cleanup();
    }
  });

  test('expired SSO session: interactive → aws sso login (faked browser half) then the real export succeeds', async () => {
    const { sb, log } = awsSandbox(1200);
    try {
      const { ctx, progress } = ctxOf(sb.env, true);
      const out = await awssso.fetch(keysOf({
        OLD: { vault: 'aws.sso', profile: 'sso' },
        NEW: { vault: 'aws.sso', profile: 'ssonew' },
      }), ctx);
      for (const k of ['OLD', 'NEW']) {
        const c = creds(out.get(k));
        assert.match(c.env.AWS_ACCESS_KEY_ID!, /^ASIA[0-9A-F]{16}$/);
        assert.ok(c.env.AWS_SESSION_TOKEN);
        assert.ok(c.expiresAt! > Date.now() + 3000_000);
        SECRETS.add(c.env.AWS_SECRET_ACCESS_KEY!).add(c.env.AWS_SESSION_TOKEN!);
      }
      const logins = argvLog(log).filter((c) => c.argv?.[0] === 'sso').map((c) => c.argv);
      assert.deepEqual(logins, [['sso', 'login', '--profile', 'sso'], ['sso', 'login', '--profile', 'ssonew']]);
      assert.ok(progress.some((m) => m.includes('running aws sso login --profile sso') && m.includes('finish it in your browser')), progress.join('\n'));
      assertNoSecretInArgv(log);
    } finally {
      sb.cleanup();
    }
  });

  test('expired SSO session: not interactive (daemon refresh) fails that key and never logs in', async () => {
    const { sb, log } = awsSandbox(1200);
    try {
      const { ctx } = ctxOf(sb.env, false);
      const out = await awssso.fetch(keysOf({ OLD: { vault: 'aws.sso', profile: 'sso' }, PR: { vault: 'aws.sso', profile: 'proc' } }), ctx);
      assert.match(errorOf(out.get('OLD')).message, /^aws\.sso \(profile sso\): the AWS SSO session has expired \(aws: Error loading SSO Token: Token for https:\/\/keyrack-test\.awsapps\.com\/start does not exist\); run keyrack unlock, which runs aws sso login --profile sso$/);
      assert.ok(creds(out.get('PR')));
      assert.equal(argvLog(log).filter((c) => c.argv?.[0] === 'sso').length, 0);
    } finally {
      sb.cleanup();
    }
  });

  test('a login that never finishes is given up with a clear message', async () => {
    const { sb } = awsSandbox(1200, { KEYRACK_SSO_LOGIN_TIMEOUT: '1' });
    const fx = join(sb.dir, 'login.json');
    writeFileSync(fx, JSON.stringify({ hang: true }));
    sb.env.FAKE_AWS_LOGIN = fx;
    try {
      const { ctx } = ctxOf(sb.env, true);
      const out = await awssso.fetch(keysOf({ OLD: { vault: 'aws.sso', profile: 'sso' } }), ctx);
      assert.equal(errorOf(out.get('OLD')).message,
        'aws.sso (profile sso): aws sso login did not finish within 1s, so keyrack gave up; run aws sso login --profile sso, then keyrack unlock again');
    } finally {
      sb.cleanup();
    }
  });

  test('AWS CLI v1 first on PATH: detected; the v2 at a standard place is used, or a clear error', async () => {
    const { sb, log } = awsSandbox(1200);
    sb.env.PATH = `${join(FAKES, 'aws-v1')}:${process.env.PATH}`;
    try {
      assert.deepEqual(await awsCliVersion(sb.env), { path: join(FAKES, 'aws-v1', 'aws'), version: '1.29.0', major: 1 });
      const { ctx } = ctxOf(sb.env);
      const out = await awssso.fetch(keysOf({ ST: { vault: 'aws.sso', profile: 'static' } }), ctx);
      assert.equal(creds(out.get('ST')).env.AWS_ACCESS_KEY_ID, 'AKIASTATICKEY000001');
      assert.ok(argvLog(log).some((c) => c.tool === 'aws-v1'));
      const e = await resolveV2(join(FAKES, 'aws-v1', 'aws'), sb.env, []);
      assert.ok(e instanceof UserError);
      assert.match(e.message, /aws-v1\/aws \(the first aws on PATH\) is AWS CLI 1\.29\.0; keyrack needs AWS CLI v2 for aws configure export-credentials/);
      assert.deepEqual(await resolveV2('/usr/bin/aws', sb.env, []), { path: '/usr/bin/aws' });
    } finally {
      sb.cleanup();
    }
  });
});
