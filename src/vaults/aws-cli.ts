/**
 * The AWS CLI as the aws.sso vault uses it: finding a v2 (`configure
 * export-credentials` does not exist in v1), the environment it runs in, and
 * reading its `--format env-no-export` output.
 */
import { UserError } from '../errors.js';
import type { Env } from '../paths.js';
import { findOnPath, isExecutableFile, runTool } from './tool.js';

export const AWS_INSTALL_URL = 'https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html';

/** Where AWS CLI v2 lives when installed by AWS's installer or the distribution. */
export const V2_FALLBACKS = ['/usr/local/bin/aws', '/usr/bin/aws'];

/**
 * Variables that would let the user's shell pick another profile or other
 * credentials than the one keyrack asked for (a previous `keyrack export` puts
 * some of them there).
 */
const SCRUBBED = [
  'AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN', 'AWS_CREDENTIAL_EXPIRATION',
];

export function awsEnv(env: Env): Env {
  const out: Env = { ...env };
  for (const k of SCRUBBED) delete out[k];
  return out;
}

export interface AwsCliVersion {
  path: string;
  /** e.g. "2.9.19", or null when `aws --version` said something else. */
  version: string | null;
  major: number | null;
}

/** `path --version` → "aws-cli/2.9.19 Python/…" (v1 printed it on stderr in old releases). */
export async function probeVersion(path: string, env: Env): Promise<AwsCliVersion> {
  const r = await runTool(path, ['--version'], { env: awsEnv(env), timeoutMs: 15_000 });
  const m = /aws-cli\/(\d+)\.(\S+)/.exec(`${r.stdout.toString('utf8')}\n${r.stderr}`);
  if (!m) return { path, version: null, major: null };
  return { path, version: `${m[1]}.${m[2]}`, major: Number(m[1]) };
}

/**
 * The version of the first `aws` on PATH, or null when there is none — for
 * `keyrack doctor`, which should say when it is a v1.
 */
export async function awsCliVersion(env: Env = process.env): Promise<AwsCliVersion | null> {
  const path = findOnPath('aws', env);
  return path ? probeVersion(path, env) : null;
}

/**
 * Picks the AWS CLI v2 to run when the first `aws` on PATH turned out to be
 * older: a v2 at a standard install location is used instead (a pyenv or pip v1
 * often shadows it); without one, the error names the path and version found.
 */
export async function resolveV2(first: string, env: Env, fallbacks: string[] = V2_FALLBACKS): Promise<{ path: string } | Error> {
  const v = await probeVersion(first, env);
  if (v.major !== null && v.major >= 2) return { path: first };
  for (const p of fallbacks) {
    if (p === first || !isExecutableFile(p)) continue;
    const f = await probeVersion(p, env);
    if (f.major !== null && f.major >= 2) return { path: p };
  }
  const what = v.version ? `AWS CLI ${v.version}` : 'not an AWS CLI keyrack recognises';
  return new UserError(
    `${first} (the first aws on PATH) is ${what}; keyrack needs AWS CLI v2 for aws configure export-credentials, ` +
    `and found no v2 at ${fallbacks.join(' or ')} — install v2 (${AWS_INSTALL_URL}) or put it earlier on PATH`,
  );
}

/** v1 answers the v2-only subcommand with a usage error, exit 2. */
export function looksLikeV1(code: number | null, stderr: string): boolean {
  return code === 2 && /invalid choice/i.test(stderr);
}

/** The AWS CLI's words for "the SSO session is missing or expired; run aws sso login". */
const SSO_EXPIRED = [
  /Error loading SSO Token/i,
  /Token has expired and refresh failed/i,
  /SSO session associated with this profile has expired/i,
  /Session token not found or invalid/i,
  /Error when retrieving token from sso/i,
];

export function ssoSessionExpired(stderr: string): boolean {
  return SSO_EXPIRED.some((re) => re.test(stderr));
}

export interface AwsCredentials {
  env: Record<string, string>;
  expiresAt?: number;
}

const VARS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_CREDENTIAL_EXPIRATION'] as const;

/**
 * Reads `NAME=value` lines (the v2 `env-no-export` format prints values bare;
 * one pair of surrounding quotes is taken off should a version add them). The
 * problem, when there is one, never quotes the output: it holds secrets.
 */
export function parseExport(text: string, now = Date.now()): AwsCredentials | string {
  const env: Record<string, string> = {};
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.replace(/\r$/, '').replace(/^export /, '');
    if (line.trim() === '') continue;
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) return `line ${i + 1} of its output is not NAME=value`;
    const [, name, rawValue] = m as unknown as [string, string, string];
    if (!(VARS as readonly string[]).includes(name)) continue;
    const q = /^"([^"]*)"$/.exec(rawValue) ?? /^'([^']*)'$/.exec(rawValue);
    const value = q ? q[1]! : rawValue;
    if (value === '' || /[\u0000-\u001f\u007f]/.test(value)) return `${name} in its output is empty or holds control characters`;
    env[name] = value;
  }
  for (const need of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
    if (!env[need]) return `its output has no ${need}`;
  }
  // Long-term keys come without a session token. An empty one masks a stale token
  // the shell may hold from elsewhere (the SDKs treat empty as unset), and leaving
  // the project restores it with the rest.
  env.AWS_SESSION_TOKEN ??= '';
  const exp = env.AWS_CREDENTIAL_EXPIRATION;
  if (exp === undefined) return { env };
  const at = parseIso(exp);
  if (at === null) return `its AWS_CREDENTIAL_EXPIRATION ${JSON.stringify(exp)} is not an ISO 8601 time`;
  if (at <= now) return `the credentials it returned expired at ${new Date(at).toISOString()}`;
  return { env, expiresAt: at };
}

/** ISO 8601 as botocore prints it (isoformat); without an offset it means UTC. */
function parseIso(s: string): number | null {
  const m = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (!m) return null;
  const t = Date.parse(m[2] ? s : `${s}Z`);
  return Number.isFinite(t) ? t : null;
}

export const AWS_NOT_INSTALLED = `AWS CLI v2 (aws) is not installed — see ${AWS_INSTALL_URL}`;
