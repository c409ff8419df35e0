/**
 * The aws.ssm vault: SSM Parameter Store through the AWS CLI v2, SecureStrings
 * decrypted. The registry keeps `--ref /param/name` (or an ARN, optionally with
 * a :version or :label selector) and an optional `--profile`. One key is one
 * GetParameter; keys that share a profile and region go through GetParameters,
 * ten names a call (the API's limit), the calls a few at a time.
 */
import { KeyrackError, UserError } from '../errors.js';
import { isRecord } from '../fsutil.js';
import type { RegistryEntry } from '../registry.js';
import { AwsRunner, endpointFor, loginHint, regionOfArn, type Failure, type Target } from './aws-call.js';
import { AWS_NOT_INSTALLED } from './aws-cli.js';
import { profileProblem } from './awssso.js';
import { hasControl, shown, valueOf } from './text.js';
import { pool } from './tool.js';
import type { Fetched, Vault } from './vault.js';

const PARALLEL = 3;
/** GetParameters takes at most 10 names (API reference, Names: "Maximum number of 10 items"). */
const BATCH = 10;

/** Why a parameter name is unusable, or null. */
export function paramProblem(ref: string | undefined): string | null {
  if (ref === undefined || ref === '') return 'an aws.ssm key needs --ref /param/name (or a parameter ARN)';
  if (ref.length > 2048) return 'aws.ssm parameter name is longer than 2048 characters';
  if (hasControl(ref)) return `aws.ssm parameter name ${shown(ref)} contains a control character`;
  // Parameter names hold a-zA-Z0-9_.-/ ; ARNs and :version / :label selectors add ':'.
  if (!/^[A-Za-z0-9_./:-]+$/.test(ref) || ref.startsWith('-')) return `aws.ssm parameter name ${shown(ref)} holds only letters, digits and _.-/: and does not start with '-'`;
  return null;
}

function targetProblem(entry: RegistryEntry): string | null {
  return paramProblem(entry.ref) ?? (entry.profile === undefined ? null : profileProblem(entry.profile));
}

/** What one parameter in an answer holds; requested names match Name (or ARN) plus Selector. */
function paramsOf(json: unknown): { found: Map<string, unknown>; invalid: Set<string> } {
  const found = new Map<string, unknown>();
  const invalid = new Set<string>();
  if (!isRecord(json)) return { found, invalid };
  const list = Array.isArray(json.Parameters) ? json.Parameters : isRecord(json.Parameter) ? [json.Parameter] : [];
  for (const p of list) {
    if (!isRecord(p)) continue;
    const sel = typeof p.Selector === 'string' ? p.Selector : '';
    if (typeof p.Name === 'string') found.set(p.Name + sel, p.Value);
    if (typeof p.ARN === 'string') found.set(p.ARN + sel, p.Value);
  }
  if (Array.isArray(json.InvalidParameters)) for (const n of json.InvalidParameters) if (typeof n === 'string') invalid.add(n);
  return { found, invalid };
}

interface Group { target: Target; names: Map<string, string[]> }

export const vault: Vault = {
  id: 'aws.ssm',

  validate: targetProblem,

  // Nothing of ours to delete: the parameter lives in Parameter Store.
  async fetch(keys, ctx) {
    const out = new Map<string, Fetched | Error>();
    const groups = new Map<string, Group>();
    for (const { name, entry } of keys) {
      const p = targetProblem(entry);
      if (p) {
        out.set(name, new UserError(`aws.ssm: ${p}; fix it with keyrack set ${name} --vault aws.ssm --ref /param/name [--profile P]`));
        continue;
      }
      const param = entry.ref!;
      const region = regionOfArn(param);
      const id = JSON.stringify([entry.profile ?? null, region ?? null]);
      const g = groups.get(id) ?? { target: { ...(entry.profile !== undefined && { profile: entry.profile }), ...(region !== undefined && { region }) }, names: new Map() };
      g.names.set(param, [...(g.names.get(param) ?? []), name]);
      groups.set(id, g);
    }
    if (groups.size === 0) return out;
    const endpoint = endpointFor('SSM', ctx.env);
    const aws = AwsRunner.find(ctx.env);
    if (endpoint instanceof Error || !aws) {
      const e = endpoint instanceof Error ? endpoint : new UserError(`aws.ssm: ${AWS_NOT_INSTALLED}`);
      for (const g of groups.values()) for (const names of g.names.values()) for (const n of names) out.set(n, e);
      return out;
    }
    const calls: Array<{ target: Target; params: string[]; keys: Map<string, string[]> }> = [];
    for (const g of groups.values()) {
      const params = [...g.names.keys()];
      for (let i = 0; i < params.length; i += BATCH) calls.push({ target: g.target, params: params.slice(i, i + BATCH), keys: g.names });
    }
    await pool(calls, PARALLEL, async ({ target, params, keys: byParam }) => {
      const args = params.length === 1
        ? ['ssm', 'get-parameter', `--name=${params[0]}`, '--with-decryption']
        : ['ssm', 'get-parameters', '--names', ...params, '--with-decryption'];
      const r = await aws.call(args, target, endpoint);
      const prof = target.profile === undefined ? '' : `, profile ${target.profile}`;
      const answer = 'json' in r ? paramsOf(r.json) : undefined;
      for (const param of params) {
        const who = `aws.ssm (${param}${prof})`;
        const v = answer?.found.get(param);
        let res: Fetched | Error;
        if (!answer) res = failure(who, r as Failure, target.profile, byParam.get(param)![0]!);
        else if (v === undefined) {
          res = answer.invalid.has(param) || params.length === 1
            ? new UserError(`${who}: no such parameter; fix it with keyrack set ${byParam.get(param)![0]} --vault aws.ssm --ref /param/name`)
            : new KeyrackError(`${who}: GetParameters did not return it`);
        } else if (typeof v !== 'string') res = new KeyrackError(`${who}: unexpected answer from GetParameter`);
        else {
          const t = valueOf(Buffer.from(v, 'utf8'), false);
          res = 'refused' in t ? new UserError(`${who}: ${t.refused}`) : { value: t.value };
        }
        for (const n of byParam.get(param)!) out.set(n, res);
      }
    });
    return out;
  },
};

function failure(who: string, f: Failure, profile: string | undefined, name: string): Error {
  if (f.kind === 'absent') return new UserError(`${who}: no such parameter (${f.message}); fix it with keyrack set ${name} --vault aws.ssm --ref /param/name`);
  if (f.kind === 'auth') return new UserError(`${who}: ${loginHint(profile)} (${f.message})`);
  return f.message === AWS_NOT_INSTALLED ? new UserError(`aws.ssm: ${f.message}`) : new KeyrackError(`${who}: ${f.message}`);
}
