/**
 * Fixtures for the remote vaults' tests. 1password runs against test/fakes/op, a
 * stand-in written to op's documented contract (the real CLI cannot reach
 * 1Password here). aws.sso runs the REAL AWS CLI v2 (/usr/bin/aws) through
 * test/fakes/aws, which forwards everything except the browser half of `aws sso
 * login`. Both fakes log every argv, so each test also proves that no secret went
 * through an argv. Used in-process (test/unit/vault-*.test.ts, on a tempEnv) and
 * through the CLI (test/e2e/remote-vaults.test.ts, on a sandbox).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FetchContext, Fetched, KeyRef } from '../src/vaults/vault.ts';
import type { RegistryEntry } from '../src/registry.ts';
import { tempEnv } from './unit/fixture.ts';

/** Where a fixture lives: a unit test's tempEnv, or an e2e test's sandbox (whose cleanup also stops its daemon). */
export interface Base {
  dir: string;
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

/** A private HOME and XDG tree with the usual PATH, for the in-process tests. */
export function vaultBase(): Base {
  const t = tempEnv();
  Object.assign(t.env, { PATH: process.env.PATH, LANG: 'C.UTF-8' });
  return t;
}

export const FAKES = fileURLToPath(new URL('./fakes', import.meta.url));
export const SIGN_IN_HINT = 'run `eval $(op signin)` in this shell, or turn on "Integrate with 1Password CLI" in the 1Password app (Settings → Developer), then try again';
export const NOT_INSTALLED = '1Password CLI (op) is not installed — see https://developer.1password.com/docs/cli/get-started/';

/** Every secret value any test hands out: none may ever appear in an argv log. */
export const SECRETS = new Set<string>();

export function ctxOf(env: NodeJS.ProcessEnv, interactive = true): { ctx: FetchContext; progress: string[] } {
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

export const keysOf = (entries: Record<string, RegistryEntry>): KeyRef[] =>
  Object.entries(entries).map(([name, entry]) => ({ name, entry }));

export function value(r: Fetched | Error | undefined): string {
  if (r === undefined) throw new Error('no result');
  if (r instanceof Error) throw r;
  if (!('value' in r)) throw new Error('expected a single value');
  return r.value;
}

export function errorOf(r: Fetched | Error | undefined): Error {
  assert.ok(r instanceof Error, `expected an Error, got ${JSON.stringify(r)}`);
  return r;
}

export function argvLog(path: string): Array<{ tool: string; pid?: number; argv?: string[] }> {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { tool: string; pid?: number; argv?: string[] });
}

export function assertNoSecretInArgv(path: string): void {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  for (const s of SECRETS) assert.ok(!text.includes(s), `a secret value reached an argv (${path})`);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A sandbox with the fakes first on PATH, an op fixture and an argv log. */
export function opSandbox(fixture: object, extra: NodeJS.ProcessEnv = {}, sb: Base = vaultBase()) {
  const fx = join(sb.dir, 'op.json');
  const log = join(sb.dir, 'argv.log');
  writeFileSync(fx, JSON.stringify(fixture));
  Object.assign(sb.env, { PATH: `${FAKES}:${process.env.PATH}`, FAKE_OP_FIXTURE: fx, FAKE_ARGV_LOG: log }, extra);
  for (const v of Object.values((fixture as { secrets?: Record<string, string> }).secrets ?? {})) SECRETS.add(v);
  return { sb, fx, log };
}

/** requireTool semantics for the AWS CLI v2 at /usr/bin/aws (a v1 elsewhere on PATH does not count). */
export function requireAwsV2(): boolean {
  const r = spawnSync('/usr/bin/aws', ['--version'], { encoding: 'utf8' });
  if (r.status === 0 && /aws-cli\/2\./.test(r.stdout + r.stderr)) return true;
  if (process.env.CI) throw new Error('AWS CLI v2 is required at /usr/bin/aws in CI (test/run.sh installs awscli)');
  process.stderr.write('\n*** SKIPPING aws.sso tests: no AWS CLI v2 at /usr/bin/aws; run test/run.sh to install it ***\n\n');
  return false;
}

export interface AwsBox {
  sb: Base;
  log: string;
  countFile: string;
}

/**
 * A sandbox with an AWS config: `static` (keys in the credentials file), `proc`
 * (a credential_process that hands out new keys on every call, expiring `procSecs`
 * out), `sso` (legacy SSO, never logged in) and `ssonew` (sso-session style).
 */
export function awsSandbox(procSecs: number, extra: NodeJS.ProcessEnv = {}, sb: Base = vaultBase()): AwsBox {
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

export function creds(r: Fetched | Error | undefined): { env: Record<string, string>; expiresAt?: number } {
  if (r === undefined) throw new Error('no result');
  if (r instanceof Error) throw r;
  if (!('env' in r)) throw new Error('expected variables');
  return r;
}
