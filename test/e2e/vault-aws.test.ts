/**
 * aws.secrets and aws.ssm through the REAL AWS CLI v2 (/usr/bin/aws) against a
 * stand-in endpoint on 127.0.0.1 (test/fakes/aws-endpoint.ts) that speaks the
 * documented JSON protocol of GetSecretValue, GetParameter and GetParameters and
 * verifies every request's SigV4 signature, so the tests see which profile's
 * keys signed each call, for which region, and how calls were batched. The
 * endpoint comes from AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL_SSM,
 * as AWS CLI v2 documents them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyrack, ROOT, sandbox, type Sandbox } from '../helpers.ts';
import { AwsEndpoint } from '../fakes/aws-endpoint.ts';
import { roundTrip } from '../vault-roundtrip.ts';

function requireAwsV2(): boolean {
  const r = spawnSync('/usr/bin/aws', ['--version'], { encoding: 'utf8' });
  if (r.status === 0 && /aws-cli\/2\./.test(r.stdout + r.stderr)) return true;
  if (process.env.CI) throw new Error('AWS CLI v2 is required at /usr/bin/aws in CI (test/run.sh installs awscli)');
  process.stderr.write('\n*** SKIPPING aws.secrets/aws.ssm tests: no AWS CLI v2 at /usr/bin/aws ***\n\n');
  return false;
}
const HAVE_AWS = requireAwsV2();

const JSON_SECRET = JSON.stringify({ username: 'app_user', password: 'p@ss "w0rd" ✓', port: 5432, nested: { a: 1 } });

describe('aws.secrets and aws.ssm (real AWS CLI v2, stand-in endpoint)', { skip: !HAVE_AWS }, () => {
  let sb: Sandbox;
  let aws: AwsEndpoint;
  const kr = (args: string[], env: NodeJS.ProcessEnv = sb.env) => keyrack(args, { env });
  const set = async (...args: string[]) => {
    const r = await kr(['set', ...args]);
    assert.equal(r.code, 0, r.stderr);
  };
  const callsSince = (n: number) => aws.calls.slice(n);

  before(async () => {
    aws = await AwsEndpoint.start({
      credentials: { AKIADEVEXAMPLE000001: 'dev/secret+key', AKIAOTHEREXAMPLE0002: 'other/secret+key' },
      secrets: {
        'prod/api-token': { string: 'sm-token\nwith a second line' },
        'prod/db': { string: JSON_SECRET },
        'prod/binary': { binary: Buffer.from('binary but text ✓', 'utf8') },
        'prod/not-json': { string: 'plain' },
        'prod/bad-bytes': { binary: Buffer.from([0x66, 0xff, 0x00]) },
        'arn:aws:secretsmanager:eu-west-2:111122223333:secret:london-AbCdEf': { string: 'from london' },
        'prod/slow': { string: 'never sent' },
      },
      params: {
        '/app/one': { type: 'String', value: 'one' },
        '/app/two': { type: 'SecureString', value: 'two-decrypted $x' },
        '/app/list': { type: 'StringList', value: 'a,b,c' },
        ...Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`/many/p${i}`, { type: 'String' as const, value: `v${i}` }])),
      },
      hang: ['prod/slow'],
    });
    sb = sandbox();
    const dir = join(sb.dir, 'aws');
    mkdirSync(dir);
    writeFileSync(join(dir, 'config'), '[profile dev]\nregion = us-east-1\n\n[profile other]\nregion = us-west-2\n\n[profile wrong]\nregion = us-east-1\n');
    writeFileSync(join(dir, 'credentials'), '[dev]\naws_access_key_id = AKIADEVEXAMPLE000001\naws_secret_access_key = dev/secret+key\n\n'
      + '[other]\naws_access_key_id = AKIAOTHEREXAMPLE0002\naws_secret_access_key = other/secret+key\n\n'
      + '[wrong]\naws_access_key_id = AKIADEVEXAMPLE000001\naws_secret_access_key = not-the-right-secret\n');
    // The Debian AWS CLI v2 first on PATH (a pip v1 may come first on a developer's machine).
    const bin = join(sb.dir, 'bin');
    mkdirSync(bin);
    symlinkSync('/usr/bin/aws', join(bin, 'aws'));
    Object.assign(sb.env, {
      PATH: `${bin}:${sb.env.PATH}`,
      AWS_CONFIG_FILE: join(dir, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
      AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
      AWS_ENDPOINT_URL_SSM: aws.url,
      // The shell's own AWS settings must not redirect a key to another profile.
      AWS_PROFILE: 'other', AWS_ACCESS_KEY_ID: 'AKIASHELLLEFTOVER', AWS_SECRET_ACCESS_KEY: 'leftover',
    });
  });
  after(async () => {
    await aws.close();
    sb.cleanup();
    assert.deepEqual(aws.violations, [], 'every request followed the documented protocol');
  });

  test('round trip; one GetSecretValue per secret, one GetParameters for the ssm keys, all signed with the key\'s profile', async () => {
    await set('SM_TOKEN', '--vault', 'aws.secrets', '--ref', 'prod/api-token', '--profile', 'dev');
    await set('DB_USER', '--vault', 'aws.secrets', '--ref', 'prod/db#username', '--profile', 'dev');
    await set('DB_PASS', '--vault', 'aws.secrets', '--ref', 'prod/db#password', '--profile', 'dev');
    await set('DB_PORT', '--vault', 'aws.secrets', '--ref', 'prod/db#port', '--profile', 'dev');
    await set('SM_BIN', '--vault', 'aws.secrets', '--ref', 'prod/binary', '--profile', 'dev');
    await set('P_ONE', '--vault', 'aws.ssm', '--ref', '/app/one', '--profile', 'dev');
    await set('P_TWO', '--vault', 'aws.ssm', '--ref', '/app/two', '--profile', 'dev');
    await set('P_LIST', '--vault', 'aws.ssm', '--ref', '/app/list', '--profile', 'dev');
    const n = aws.calls.length;
    await roundTrip(sb, {
      SM_TOKEN: 'sm-token\nwith a second line', DB_USER: 'app_user', DB_PASS: 'p@ss "w0rd" ✓', DB_PORT: '5432', SM_BIN: 'binary but text ✓',
      P_ONE: 'one', P_TWO: 'two-decrypted $x', P_LIST: 'a,b,c',
    });
    const calls = callsSince(n);
    const sm = calls.filter((c) => c.target === 'secretsmanager.GetSecretValue');
    assert.deepEqual(sm.map((c) => c.names[0]).sort(), ['prod/api-token', 'prod/binary', 'prod/db']);
    const ssm = calls.filter((c) => c.target.startsWith('AmazonSSM.'));
    assert.equal(ssm.length, 1, 'the three ssm keys share one call');
    assert.equal(ssm[0]!.target, 'AmazonSSM.GetParameters');
    assert.deepEqual([...ssm[0]!.names].sort(), ['/app/list', '/app/one', '/app/two']);
    assert.equal(ssm[0]!.withDecryption, true, 'SecureStrings are asked for decrypted');
    for (const c of calls) assert.deepEqual([c.accessKey, c.region], ['AKIADEVEXAMPLE000001', 'us-east-1'], 'signed with profile dev, not the shell\'s AWS_* variables');
  });

  test('one ssm key: GetParameter; eleven: ten in one GetParameters (its limit) and one GetParameter; another profile and an ARN\'s region', async () => {
    await set('SOLO', '--vault', 'aws.ssm', '--ref', '/app/one', '--profile', 'other');
    let n = aws.calls.length;
    let r = await kr(['unlock', 'SOLO']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(callsSince(n), [{ target: 'AmazonSSM.GetParameter', names: ['/app/one'], accessKey: 'AKIAOTHEREXAMPLE0002', region: 'us-west-2', withDecryption: true }]);
    const many = Array.from({ length: 11 }, (_, i) => `M${i}`);
    for (const [i, k] of many.entries()) await set(k, '--vault', 'aws.ssm', '--ref', `/many/p${i}`, '--profile', 'dev');
    n = aws.calls.length;
    r = await kr(['unlock', ...many]);
    assert.equal(r.code, 0, r.stderr);
    const sizes = callsSince(n).map((c) => [c.target, c.names.length]);
    // Ten in one GetParameters, the eleventh alone (a batch of one is a GetParameter).
    assert.deepEqual(sizes.sort(), [['AmazonSSM.GetParameter', 1], ['AmazonSSM.GetParameters', 10]]);
    assert.equal((await kr(['get', 'M10'])).stdout, 'v10\n');
    await set('LONDON', '--vault', 'aws.secrets', '--ref', 'arn:aws:secretsmanager:eu-west-2:111122223333:secret:london-AbCdEf', '--profile', 'dev');
    n = aws.calls.length;
    r = await kr(['unlock', 'LONDON']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(callsSince(n)[0]!.region, 'eu-west-2', 'an ARN\'s region is used');
    assert.equal((await kr(['get', 'LONDON'])).stdout, 'from london\n');
  });

  test('absent secret and parameter, a missing or non-text field, bad credentials, unknown profile: each its own message', async () => {
    await set('NO_SECRET', '--vault', 'aws.secrets', '--ref', 'prod/nope', '--profile', 'dev');
    await set('NO_FIELD', '--vault', 'aws.secrets', '--ref', 'prod/db#nope', '--profile', 'dev');
    await set('NOT_JSON', '--vault', 'aws.secrets', '--ref', 'prod/not-json#x', '--profile', 'dev');
    await set('BAD_BYTES', '--vault', 'aws.secrets', '--ref', 'prod/bad-bytes', '--profile', 'dev');
    await set('NO_PARAM', '--vault', 'aws.ssm', '--ref', '/app/nope', '--profile', 'dev');
    await set('IN_BATCH', '--vault', 'aws.ssm', '--ref', '/app/one', '--profile', 'dev');
    await set('WRONG_KEY', '--vault', 'aws.ssm', '--ref', '/app/one', '--profile', 'wrong');
    await set('NO_PROFILE', '--vault', 'aws.secrets', '--ref', 'prod/db#username', '--profile', 'ghost');
    const r = await kr(['unlock', 'NO_SECRET', 'NO_FIELD', 'NOT_JSON', 'BAD_BYTES', 'NO_PARAM', 'IN_BATCH', 'WRONG_KEY', 'NO_PROFILE']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /NO_SECRET: aws\.secrets \(prod\/nope, profile dev\): no such secret \(ResourceNotFoundException: Secrets Manager can't find the specified secret\.\); fix it with keyrack set NO_SECRET --vault aws\.secrets --ref SECRET-ID/);
    assert.match(r.stderr, /NO_FIELD: aws\.secrets \(prod\/db, profile dev\): the secret's JSON has no field "nope"/);
    assert.match(r.stderr, /NOT_JSON: aws\.secrets \(prod\/not-json, profile dev\): #x needs a JSON SecretString, and this one is not JSON/);
    assert.match(r.stderr, /BAD_BYTES: aws\.secrets \(prod\/bad-bytes, profile dev\): its SecretBinary is not text: the value is not valid UTF-8/);
    assert.match(r.stderr, /NO_PARAM: aws\.ssm \(\/app\/nope, profile dev\): no such parameter; fix it with keyrack set NO_PARAM --vault aws\.ssm --ref \/param\/name/);
    assert.doesNotMatch(r.stderr, /IN_BATCH:/);
    assert.match(r.stderr, /WRONG_KEY: aws\.ssm \(\/app\/one, profile wrong\): the credentials of profile wrong are missing, expired or not allowed: run aws sso login --profile wrong .*\(InvalidSignatureException: The request signature we calculated does not match/);
    assert.match(r.stderr, /NO_PROFILE: aws\.secrets \(prod\/db, profile ghost\): The config profile \(ghost\) could not be found/);
    assert.equal((await kr(['get', 'IN_BATCH'])).stdout, 'one\n', 'the good key of a batch with an absent one unlocks');
  });

  test('a hung endpoint is given up at KEYRACK_AWS_TIMEOUT; aws missing; a bad endpoint variable', async () => {
    await set('SLOW', '--vault', 'aws.secrets', '--ref', 'prod/slow', '--profile', 'dev');
    let r = await kr(['unlock', 'SLOW', 'IN_BATCH'], { ...sb.env, KEYRACK_AWS_TIMEOUT: '4' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /SLOW: aws\.secrets \(prod\/slow, profile dev\): aws timed out after 4s \(killed\); is the endpoint reachable\?/);
    assert.equal((await kr(['get', 'IN_BATCH'])).code, 0);
    const empty = join(sb.dir, 'empty-path');
    mkdirSync(empty, { recursive: true });
    // Held keys are left as they are by unlock: locked first, so it fetches them.
    assert.equal((await kr(['lock', 'SM_TOKEN', 'P_ONE'])).code, 0);
    r = await kr(['unlock', 'SM_TOKEN', 'P_ONE'], { ...sb.env, PATH: empty });
    assert.match(r.stderr, /SM_TOKEN: aws\.secrets: AWS CLI v2 \(aws\) is not installed — see https:\/\/docs\.aws\.amazon\.com/);
    assert.match(r.stderr, /P_ONE: aws\.ssm: AWS CLI v2 \(aws\) is not installed/);
    r = await kr(['unlock', 'P_ONE'], { ...sb.env, AWS_ENDPOINT_URL_SSM: 'not a url' });
    assert.match(r.stderr, /P_ONE: AWS_ENDPOINT_URL_SSM is not a URL/);
    const d = await kr(['doctor'], { ...sb.env, PATH: empty });
    assert.match(d.stdout, /FAIL {2}aws \(AWS CLI v2\) not on PATH but aws\.secrets and aws\.ssm keys are registered/);
  });

  test('AWS CLI v1 first on PATH: the v2 at /usr/bin/aws is used instead', async () => {
    const n = aws.calls.length;
    const r = await kr(['unlock', 'SM_TOKEN'], { ...sb.env, PATH: `${join(ROOT, 'test', 'fakes', 'aws-v1')}:${sb.env.PATH}` });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(callsSince(n).length, 1);
  });

  test('set checks references and where --profile belongs', async () => {
    for (const [args, re] of [
      [['--vault', 'aws.secrets', '--ref', '-x'], /does not start with '-'/],
      [['--vault', 'aws.secrets', '--ref', 'a b'], /holds only letters/],
      [['--vault', 'aws.secrets', '--ref', 'x#'], /name a JSON field after '#'/],
      [['--vault', 'aws.ssm', '--ref', '/a b'], /holds only letters, digits/],
      [['--vault', 'aws.ssm'], /--vault aws\.ssm needs --ref \/param\/name/],
      [['--vault', 'pass', '--ref', 'x', '--profile', 'dev'], /--profile is only for --vault aws\.sso, aws\.secrets, aws\.ssm/],
    ] as const) {
      const r = await kr(['set', 'BAD', ...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, re);
    }
  });
});
