/**
 * One AWS API call through the real AWS CLI v2, as aws.secrets and aws.ssm make
 * it: JSON out, no pager, the profile the key names (the shell's AWS_* variables
 * cannot redirect it), the region of an ARN, and an endpoint from the variables
 * AWS CLI v2 documents (AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, unless
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true), passed as --endpoint-url so CLIs
 * older than 2.13 (which do not read them) behave the same. Failures are sorted
 * into what the user must do: install, log in, fix the reference, wait.
 */
import { UserError } from '../errors.js';
import type { Env } from '../paths.js';
import { AWS_NOT_INSTALLED, awsEnv, resolveV2 } from './aws-cli.js';
import { findOnPath, runTool, seconds, timeoutFrom, toolMessage } from './tool.js';

/** The service identifiers AWS CLI v2 uses in AWS_ENDPOINT_URL_<SERVICE>. */
export type Service = 'SECRETS_MANAGER' | 'SSM';

/** Which credentials and region a call uses (absent: the CLI's defaults). */
export interface Target {
  profile?: string;
  region?: string;
}

/** A failed call, sorted by what the user must do about it. */
export type Failure = { kind: 'absent' | 'auth' | 'other'; message: string; code?: string };

const DEFAULT_TIMEOUT_S = 60;

/** The endpoint AWS CLI v2 would use from the environment, or an Error naming the bad variable. */
export function endpointFor(service: Service, env: Env): string | undefined | Error {
  if ((env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? '').toLowerCase() === 'true') return undefined;
  for (const name of [`AWS_ENDPOINT_URL_${service}`, 'AWS_ENDPOINT_URL']) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      return new UserError(`${name} is not a URL (e.g. https://vpce-1234.secretsmanager.eu-west-1.vpce.amazonaws.com or http://localhost:4566)`);
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return new UserError(`${name} must be an http:// or https:// URL`);
    return v;
  }
  return undefined;
}

/** The region an ARN names (arn:aws:ssm:eu-west-1:…), which the call must go to. */
export function regionOfArn(id: string): string | undefined {
  const m = /^arn:aws[a-z-]*:[a-z-]+:([a-z0-9-]+):\d{12}:/.exec(id);
  return m ? m[1] : undefined;
}

/** The first `aws` on a PATH → the v2 to run instead, once we had to look. */
const chosen = new Map<string, Promise<{ path: string } | Error>>();

/** v1 refuses v2's global --no-cli-pager ("Unknown options"); tests' stand-in answers "Invalid choice". */
const V1_ANSWER = /Unknown options: .*--no-cli-pager|Invalid choice/i;

/** AWS error codes that mean the entry does not exist. */
const ABSENT = /^(ResourceNotFoundException|ParameterNotFound|ParameterVersionNotFound|ParameterVersionLabelNotFound)$/;
/** Codes and words that mean the credentials are missing, expired or not allowed. */
const AUTH_CODES = /^(UnrecognizedClientException|InvalidSignatureException|ExpiredToken(Exception)?|AccessDenied(Exception)?|InvalidClientTokenId|SignatureDoesNotMatch)$/;
const AUTH_WORDS = /Unable to locate credentials|Error loading SSO Token|Token has expired|SSO session associated with this profile has expired|Session token not found/i;

/** Runs calls through one `aws`, switching once to a v2 when the first on PATH is a v1. */
export class AwsRunner {
  private readonly timeoutMs: number;

  constructor(private readonly env: Env, private readonly first: string) {
    this.timeoutMs = timeoutFrom(env, 'KEYRACK_AWS_TIMEOUT', DEFAULT_TIMEOUT_S);
  }

  /** null when there is no `aws` on PATH at all. */
  static find(env: Env): AwsRunner | null {
    const first = findOnPath('aws', env);
    return first ? new AwsRunner(env, first) : null;
  }

  /** `aws SERVICE OP ARGS… --output json`; the parsed answer, or a sorted failure. */
  async call(args: string[], target: Target, endpoint: string | undefined): Promise<{ json: unknown } | Failure> {
    const full = [...args, '--output', 'json', '--no-cli-pager'];
    if (target.profile !== undefined) full.push('--profile', target.profile);
    if (target.region !== undefined) full.push('--region', target.region);
    if (endpoint !== undefined) full.push('--endpoint-url', endpoint);
    const opts = { env: awsEnv(this.env), timeoutMs: this.timeoutMs };
    let cli = this.first;
    const known = chosen.get(this.first);
    if (known) {
      const k = await known;
      if (k instanceof Error) return { kind: 'other', message: k.message };
      cli = k.path;
    }
    let r = await runTool(cli, full, opts);
    if (!known && r.code !== 0 && V1_ANSWER.test(r.stderr)) {
      let pick = chosen.get(this.first);
      if (!pick) chosen.set(this.first, (pick = resolveV2(this.first, this.env)));
      const k = await pick;
      if (k instanceof Error) {
        chosen.delete(this.first);
        return { kind: 'other', message: k.message };
      }
      r = await runTool(k.path, full, opts);
    }
    if (r.spawnError) return { kind: 'other', message: r.spawnError.code === 'ENOENT' ? AWS_NOT_INSTALLED : `could not run aws: ${r.spawnError.code ?? r.spawnError.message}` };
    if (r.timedOut) return { kind: 'other', message: `aws timed out after ${seconds(this.timeoutMs)} (killed); is the endpoint reachable?` };
    if (r.code !== 0) {
      const m = /An error occurred \(([A-Za-z0-9.]+)\) when calling the \w+ operation: ?(.*)/.exec(r.stderr);
      const line = m ? `${m[1]}: ${toolMessage(m[2] ?? '')}` : toolMessage(r.stderr) || `exit ${r.code ?? 'by signal'}`;
      const code = m?.[1];
      if (code && ABSENT.test(code)) return { kind: 'absent', message: line, code };
      if ((code && AUTH_CODES.test(code)) || AUTH_WORDS.test(r.stderr)) return { kind: 'auth', message: line, ...(code && { code }) };
      return { kind: 'other', message: line, ...(code && { code }) };
    }
    if (r.overflow) return { kind: 'other', message: 'its answer is larger than keyrack accepts' };
    try {
      return { json: JSON.parse(r.stdout.toString('utf8')) as unknown };
    } catch {
      // Never quoted: the answer holds secrets.
      return { kind: 'other', message: 'aws printed something that is not JSON' };
    }
  }
}

/** The fix for an auth failure, for people. */
export function loginHint(profile: string | undefined): string {
  return profile === undefined
    ? 'the default AWS credentials are missing, expired or not allowed: check aws sts get-caller-identity, or give the key a --profile'
    : `the credentials of profile ${profile} are missing, expired or not allowed: run aws sso login --profile ${profile} (or check aws sts get-caller-identity --profile ${profile})`;
}
