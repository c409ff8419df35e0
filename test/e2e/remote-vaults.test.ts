/**
 * The remote vaults. 1password runs against test/fakes/op, a stand-in written to
 * op's documented contract (the real CLI cannot reach 1Password here). aws.sso
 * runs the REAL AWS CLI v2 (/usr/bin/aws) through test/fakes/aws, which forwards
 * everything except the browser half of `aws sso login`. Both fakes log every
 * argv, so each test also proves that no secret went through an argv.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { keyrack, ROOT, sandbox, type Sandbox } from '../helpers.ts';
import { vault as onepassword } from '../../src/vaults/onepassword.ts';
import { refProblem } from '../../src/vaults/op-ref.ts';
import { vault as awssso, awsCliVersion, profileProblem } from '../../src/vaults/awssso.ts';
import { parseExport, resolveV2 } from '../../src/vaults/aws-cli.ts';
import { UserError } from '../../src/errors.ts';
import type { FetchContext, Fetched, KeyRef } from '../../src/vaults/vault.ts';
import type { RegistryEntry } from '../../src/registry.ts';

const FAKES = join(ROOT, 'test', 'fakes');
const SIGN_IN_HINT = 'run `eval $(op signin)` in this shell, or turn on "Integrate with 1Password CLI" in the 1Password app (Settings → Developer), then try again';
const NOT_INSTALLED = '1Password CLI (op) is not installed — see https://developer.1password.com/docs/cli/get-started/';

/** Every secret value any test hands out: none may ever appear in an argv log. */
const SECRETS = new Set<string>();

function ctxOf(env: NodeJS.ProcessEnv, interactive = true): { ctx: FetchContext; progress: string[] } {
  const progress: string[] = [];
  return {
    progress,
    ctx: {
      env,
      interactive,
      progress: (m) => progress.push(m),
      passphrase: () => Promise.reject(new Error('no passphrase here')),
    },
  };
}

const keysOf = (entries: Record<string, RegistryEntry>): KeyRef[] =>
  Object.entries(entries).map(([name, entry]) => ({ name, entry }));

function value(r: Fetched | Error | undefined): string {
  if (r === undefined) throw new Error('no result');
  if (r instanceof Error) throw r;
  if (!('value' in r)) throw new Error('expected a single value');
  return r.value;
}

function errorOf(r: Fetched | Error | undefined): Error {
  assert.ok(r instanceof Error, `expected an Error, got ${JSON.stringify(r)}`);
  return r;
}

function argvLog(path: string): Array<{ tool: string; pid?: number; argv?: string[] }> {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { tool: string; pid?: number; argv?: string[] });
}

function assertNoSecretInArgv(path: string): void {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  for (const s of SECRETS) assert.ok(!text.includes(s), `a secret value reached an argv (${path})`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A sandbox with the fakes first on PATH, an op fixture and an argv log. */
function opSandbox(fixture: object, extra: NodeJS.ProcessEnv = {}) {
  const sb = sandbox();
  const fx = join(sb.dir, 'op.json');
  const log = join(sb.dir, 'argv.log');
  writeFileSync(fx, JSON.stringify(fixture));
  Object.assign(sb.env, { PATH: `${FAKES}:${process.env.PATH}`, FAKE_OP_FIXTURE: fx, FAKE_ARGV_LOG: log }, extra);
  for (const v of Object.values((fixture as { secrets?: Record<string, string> }).secrets ?? {})) SECRETS.add(v);
  return { sb, fx, log };
}

describe('1password: references', () => {
  test('accepts the documented shapes', () => {
    for (const ref of ['op://vault/item/field', 'op://app-prod/db/Admin/password', 'op://Personal/GitHub Token/credential',
      'op://v/i/one-time password?attribute=otp', 'op://v/ssh/private key?ssh-format=openssh']) {
      assert.equal(refProblem(ref), null, ref);
      assert.equal(onepassword.validate!({ vault: '1password', ref }), null);
    }
  });

  test('refuses malformed references and says what is wrong', () => {
    const cases: Array<[string | undefined, RegExp]> = [
      [undefined, /needs --ref op:\/\/vault\/item\/field/],
      ['vault/item/field', /must start with op:\/\//],
      ['op://vault/item', /2 path segments; expected op:\/\/vault\/item\/field/],
      ['op://a/b/c/d/e', /5 path segments/],
      ['op://vault//field', /empty item name/],
      ['op://vault/item/', /empty field name/],
      ['op://vault/ item/field', /item name starts or ends with a space/],
      ['op://vault/item/fi\u00a0eld', /whitespace other than a plain space/],
      ['op://vault/item/fi\teld', /control character/],
      ['op://vault/item/fi\neld', /control character/],
      ['op://vault/{{item}}/field', /brace/],
      ['op://v/i/f?attribute', /malformed query/],
    ];
    for (const [ref, re] of cases) assert.match(refProblem(ref) ?? 'null', re, String(ref));
  });
});

describe('1password: fetch through op', () => {
  test('one key: op read, exactly the one trailing newline op adds is removed', async () => {
    const { sb, log } = opSandbox({ secrets: { 'op://v/item/nl': 'ends with newline\n', 'op://v/item/uni': 'Grüße 🔑 "q" $x `y`' } });
    try {
      const { ctx } = ctxOf(sb.env);
      let out = await onepassword.fetch(keysOf({ NL: { vault: '1password', ref: 'op://v/item/nl' } }), ctx);
      assert.equal(value(out.get('NL')), 'ends with newline\n');
      out = await onepassword.fetch(keysOf({ UNI: { vault: '1password', ref: 'op://v/item/uni' } }), ctx);
      assert.equal(value(out.get('UNI')), 'Grüße 🔑 "q" $x `y`');
      const calls = argvLog(log);
      assert.deepEqual(calls.map((c) => c.argv), [['read', 'op://v/item/nl'], ['read', 'op://v/item/uni']]);
      assertNoSecretInArgv(log);
    } finally {
      sb.cleanup();
    }
  });

  test('many keys: one op inject (template on stdin), references op inject cannot parse via op read', async () => {
    const secrets = {
      'op://v/a/password': 'alpha',
      'op://v/b/password': 'multi\nline\n\nvalue\n',
      'op://v/c/section/token': '{{ not a ref }} <<keyrack:x>>',
      'op://v/GitHub Token/credential': 'ghp_space_item',
    };
    const { sb, log } = opSandbox({ secrets });
    try {
      const { ctx } = ctxOf(sb.env);
      const out = await onepassword.fetch(keysOf({
        A: { vault: '1password', ref: 'op://v/a/password' },
        B: { vault: '1password', ref: 'op://v/b/password' },
        C: { vault: '1password', ref: 'op://v/c/section/token' },
        GH: { vault: '1password', ref: 'op://v/GitHub Token/credential' },
      }), ctx);
      assert.equal(value(out.get('A')), 'alpha');
      assert.equal(value(out.get('B')), 'multi\nline\n\nvalue\n');
      assert.equal(value(out.get('C')), '{{ not a ref }} <<keyrack:x>>');
      assert.equal(value(out.get('GH')), 'ghp_space_item');
      const argvs = argvLog(log).map((c) => c.argv);
      assert.equal(argvs.filter((a) => a?.[0] === 'inject').length, 1);
      assert.deepEqual(argvs.filter((a) => a?.[0] === 'read'), [['read', 'op://v/GitHub Token/credential']]);
      assertNoSecretInArgv(log);
    } finally {
      sb.cleanup();
    }
  });

  test('one bad reference fails only its key, with op\'s own message', async () => {
    const { sb, log } = opSandbox({ secrets: { 'op://v/a/password': 'good-a', 'op://v/b/password': 'good-b' } });
    try {
      const { ctx } = ctxOf(sb.env);
      const out = await onepassword.fetch(keysOf({
        A: { vault: '1password', ref: 'op://v/a/password' },
        MISSING: { vault: '1password', ref: 'op://v/nope/password' },
        B: { vault: '1password', ref: 'op://v/b/password' },
        BAD: { vault: '1password', ref: 'op://v/only-two' },
      }), ctx);
      assert.equal(value(out.get('A')), 'good-a');
      assert.equal(value(out.get('B')), 'good-b');
      const e = errorOf(out.get('MISSING'));
      assert.ok(e instanceof UserError);
      assert.match(e.message, /^1password \(op:\/\/v\/nope\/password\): op read failed: could not read secret 'op:\/\/v\/nope\/password': .*"nope" isn't an item in the "v" vault/);
      assert.doesNotMatch(e.message, /\[ERROR\]/);
      assert.match(errorOf(out.get('BAD')).message, /2 path segments/);
      assertNoSecretInArgv(log);
    } finally {
      sb.cleanup();
    }
  });

  test('values that are not valid UTF-8 or hold NUL are refused, never altered', async () => {
    const { sb } = opSandbox({
      secretsBase64: { 'op://v/bin/blob': Buffer.from([0x66, 0xff, 0xfe, 0x0a]).toString('base64') },
      secrets: { 'op://v/nul/x': 'a\u0000b', 'op://v/ok/x': 'fine' },
    });
    try {
      const { ctx } = ctxOf(sb.env);
      let out = await onepassword.fetch(keysOf({ BIN: { vault: '1password', ref: 'op://v/bin/blob' } }), ctx);
      assert.match(errorOf(out.get('BIN')).message, /not valid UTF-8/);
      out = await onepassword.fetch(keysOf({
        BIN: { vault: '1password', ref: 'op://v/bin/blob' },
        NUL: { vault: '1password', ref: 'op://v/nul/x' },
        OK: { vault: '1password', ref: 'op://v/ok/x' },
      }), ctx);
      assert.match(errorOf(out.get('BIN')).message, /not valid UTF-8/);
      assert.match(errorOf(out.get('NUL')).message, /NUL/);
      assert.equal(value(out.get('OK')), 'fine');
    } finally {
      sb.cleanup();
    }
  });

  test('not signed in: every key says exactly what to run, op runs once per strategy', async () => {
    const { sb, log } = opSandbox({ signedIn: false, secrets: { 'op://v/a/p': 'sa', 'op://v/b/p': 'sb' } });
    try {
      const { ctx } = ctxOf(sb.env);
      for (const keys of [{ A: 'op://v/a/p' }, { A: 'op://v/a/p', B: 'op://v/b/p', C: 'op://v/c d/p', D: 'op://v/e f/p' }]) {
        rmSync(log, { force: true });
        const out = await onepassword.fetch(keysOf(Object.fromEntries(Object.entries(keys).map(([k, ref]) => [k, { vault: '1password', ref }]))), ctx);
        for (const k of Object.keys(keys)) {
          const e = errorOf(out.get(k));
          assert.ok(e instanceof UserError);
          assert.equal(e.message, `1password: op is not signed in: ${SIGN_IN_HINT}`);
        }
        // inject for A+B, and one op read for the two spaced references (the first tells for both).
        assert.equal(argvLog(log).length, Object.keys(keys).length === 1 ? 1 : 2, JSON.stringify(argvLog(log)));
      }
    } finally {
      sb.cleanup();
    }
  });

  test('op not installed: a clear message with where to get it', async () => {
    const sb = sandbox();
    try {
      // A PATH with nothing on it: whether or not this machine has op.
      const empty = join(sb.dir, 'empty-path');
      mkdirSync(empty);
      const { ctx } = ctxOf({ ...sb.env, PATH: empty });
      const out = await onepassword.fetch(keysOf({ A: { vault: '1password', ref: 'op://v/a/p' }, B: { vault: '1password', ref: 'op://v/b/p' } }), ctx);
      for (const k of ['A', 'B']) assert.equal(errorOf(out.get(k)).message, `1password: ${NOT_INSTALLED}`);
    } finally {
      sb.cleanup();
    }
  });

  test('a hung op is killed at the timeout and reported', async () => {
    const { sb, log } = opSandbox({ hang: ['op://v/hang/p'], secrets: { 'op://v/ok/p': 'ok-value' } }, { KEYRACK_OP_TIMEOUT: '1' });
    try {
      const { ctx } = ctxOf(sb.env);
      const out = await onepassword.fetch(keysOf({ H: { vault: '1password', ref: 'op://v/hang/p' } }), ctx);
      assert.equal(errorOf(out.get('H')).message, '1password (op://v/hang/p): op timed out after 1s (killed); is the 1Password app waiting for approval?');
      const pids = argvLog(log).map((c) => c.pid!);
      assert.equal(pids.length, 1);
      assert.equal(alive(pids[0]!), false, 'the hung op is still running');
      // The vault stays usable after a hang.
      const again = await onepassword.fetch(keysOf({ OK: { vault: '1password', ref: 'op://v/ok/p' } }), ctx);
      assert.equal(value(again.get('OK')), 'ok-value');
    } finally {
      sb.cleanup();
    }
  });
});

// ---------------------------------------------------------------- aws.sso

/** requireTool semantics for the AWS CLI v2 at /usr/bin/aws (a v1 elsewhere on PATH does not count). */
function requireAwsV2(): boolean {
  const r = spawnSync('/usr/bin/aws', ['--version'], { encoding: 'utf8' });
  if (r.status === 0 && /aws-cli\/2\./.test(r.stdout + r.stderr)) return true;
  if (process.env.CI) throw new Error('AWS CLI v2 is required at /usr/bin/aws in CI (test/run.sh installs awscli)');
  process.stderr.write('\n*** SKIPPING aws.sso tests: no AWS CLI v2 at /usr/bin/aws; run test/run.sh to install it ***\n\n');
  return false;
}
const HAVE_AWS = requireAwsV2();

interface AwsBox {
  sb: Sandbox;
  log: string;
  countFile: string;
}

/**
 * A sandbox with an AWS config: `static` (keys in the credentials file), `proc`
 * (a credential_process that hands out new keys on every call, expiring `procSecs`
 * out), `sso` (legacy SSO, never logged in) and `ssonew` (sso-session style).
 */
function awsSandbox(procSecs: number, extra: NodeJS.ProcessEnv = {}): AwsBox {
  const sb = sandbox();
  const dir = join(sb.dir, 'aws');
  mkdirSync(dir);
  const log = join(sb.dir, 'argv.log');
  const countFile = join(dir, 'count');
  const proc = join(dir, 'proc.sh');
  writeFileSync(proc, `#!/bin/sh
n=$(cat '${countFile}' 2>/dev/null || echo 0); n=$((n + 1)); echo $n > '${countFile}'
exp=$(date -u -d "+${procSecs} seconds" +%Y-%m-%dT%H:%M:%SZ)
printf '{"Version":1,"AccessKeyId":"AKIAPROC%06d","SecretAccessKey":"procsecret-%d","SessionToken":"proctoken-%d","Expiration":"%s"}\\n' $n $n $n "$exp"
`);
  chmodSync(proc, 0o755);
  writeFileSync(join(dir, 'config'), `[profile static]
region = us-east-1

[profile proc]
credential_process = ${proc}

[profile other]
credential_process = ${proc}

[profile sso]
sso_start_url = https://keyrack-test.awsapps.com/start
sso_region = eu-west-1
sso_account_id = 111122223333
sso_role_name = Developer

[profile ssonew]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Admin

[sso-session corp]
sso_start_url = https://keyrack-corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access
`);
  writeFileSync(join(dir, 'credentials'), `[static]
aws_access_key_id = AKIASTATICKEY000001
aws_secret_access_key = static/secret+key=1
`);
  for (let n = 1; n <= 40; n++) SECRETS.add(`procsecret-${n}`).add(`proctoken-${n}`);
  SECRETS.add('static/secret+key=1');
  Object.assign(sb.env, {
    PATH: `${FAKES}:${process.env.PATH}`,
    AWS_CONFIG_FILE: join(dir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    FAKE_ARGV_LOG: log,
  }, extra);
  return { sb, log, countFile };
}

function creds(r: Fetched | Error | undefined): { env: Record<string, string>; expiresAt?: number } {
  if (r === undefined) throw new Error('no result');
  if (r instanceof Error) throw r;
  if (!('env' in r)) throw new Error('expected variables');
  return r;
}

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

// ---------------------------------------------------------------- end to end

describe('end to end: keyrack set / unlock / get / status', { skip: !HAVE_AWS }, () => {
  let box: AwsBox;
  let fx: string;
  const opSecrets = { 'op://Work/npm/token': 'npm_tok\'en "x"', 'op://Work/gh/Deploy/pat': 'ghp_pat\nline2' };

  before(() => {
    box = awsSandbox(240, { KEYRACK_REFRESH_WINDOW: '232s' });
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
