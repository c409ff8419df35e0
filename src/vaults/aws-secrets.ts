/**
 * The aws.secrets vault: AWS Secrets Manager through the AWS CLI v2 (so SSO and
 * profile credentials work as they do for `aws`). The registry keeps
 * `--ref secret-id[#json-field]` and an optional `--profile`; unlock runs one
 * GetSecretValue per secret (keys naming fields of one secret share it), four
 * at a time. A `#field` takes that top-level field of a JSON SecretString.
 */
import { KeyrackError, UserError } from '../errors.js';
import { isRecord } from '../fsutil.js';
import type { RegistryEntry } from '../registry.js';
import { AwsRunner, endpointFor, loginHint, regionOfArn, type Failure } from './aws-call.js';
import { AWS_NOT_INSTALLED } from './aws-cli.js';
import { profileProblem } from './awssso.js';
import { hasControl, shown, valueOf } from './text.js';
import { pool } from './tool.js';
import type { Fetched, Vault } from './vault.js';

/**
 * aws is a Python program that takes most of a core to start, and there is one per
 * secret: a few at a time. bench/vaults-unlock.ts: four at once beat three on 2 cores
 * (4 secrets: 1.22 s vs 1.53 s alone; 20 keys over five vaults: 1.25 s vs 2.24 s).
 */
const PARALLEL = 4;

/** A secret and, for a JSON secret, one of its top-level fields. */
export interface SecretRef {
  id: string;
  field?: string;
}

/** `secret-id[#json-field]` (a name or an ARN), or why it is unusable. */
export function parseSecretRef(ref: string | undefined): SecretRef | string {
  if (ref === undefined || ref === '') return 'an aws.secrets key needs --ref SECRET-ID (a name or ARN), or SECRET-ID#FIELD for a field of a JSON secret';
  if (ref.length > 2048) return 'aws.secrets reference is longer than 2048 characters';
  if (hasControl(ref)) return `aws.secrets reference ${shown(ref)} contains a control character`;
  const hash = ref.indexOf('#');
  const id = hash === -1 ? ref : ref.slice(0, hash);
  const field = hash === -1 ? undefined : ref.slice(hash + 1);
  // Secrets Manager names hold letters, digits and /_+=.@- ; ARNs add ':'.
  if (!/^[A-Za-z0-9/_+=.@:-]+$/.test(id) || id.startsWith('-')) return `aws.secrets reference ${shown(ref)}: a secret ID holds only letters, digits and /_+=.@-: (a name or an ARN), and does not start with '-'`;
  if (field === '') return `aws.secrets reference ${shown(ref)}: name a JSON field after '#'`;
  return field === undefined ? { id } : { id, field };
}

function targetProblem(entry: RegistryEntry): string | null {
  const p = parseSecretRef(entry.ref);
  if (typeof p === 'string') return p;
  return entry.profile === undefined ? null : profileProblem(entry.profile);
}

/** The value a key selects from a GetSecretValue answer. */
export function selectSecret(json: unknown, ref: SecretRef): { value: string } | { problem: string } {
  if (!isRecord(json)) return { problem: 'unexpected answer from GetSecretValue' };
  let text: string;
  if (typeof json.SecretString === 'string') text = json.SecretString;
  else if (typeof json.SecretBinary === 'string') {
    const v = valueOf(Buffer.from(json.SecretBinary, 'base64'), false);
    if ('refused' in v) return { problem: `its SecretBinary is not text: ${v.refused}` };
    text = v.value;
  } else return { problem: 'the secret has no SecretString or SecretBinary' };
  if (ref.field === undefined) {
    const v = valueOf(Buffer.from(text, 'utf8'), false);
    return 'refused' in v ? { problem: v.refused } : v;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { problem: `#${ref.field} needs a JSON SecretString, and this one is not JSON` };
  }
  if (!isRecord(doc) || !Object.prototype.hasOwnProperty.call(doc, ref.field)) return { problem: `the secret's JSON has no field ${shown(ref.field)}` };
  const f = doc[ref.field];
  const s = typeof f === 'string' ? f : f === null ? '' : JSON.stringify(f);
  const v = valueOf(Buffer.from(s, 'utf8'), false);
  return 'refused' in v ? { problem: `field ${shown(ref.field)}: ${v.refused}` } : v;
}

function failureError(who: string, f: Failure, profile: string | undefined, name: string): Error {
  if (f.kind === 'absent') return new UserError(`${who}: no such secret (${f.message}); fix it with keyrack set ${name} --vault aws.secrets --ref SECRET-ID`);
  if (f.kind === 'auth') return new UserError(`${who}: ${loginHint(profile)} (${f.message})`);
  return f.message === AWS_NOT_INSTALLED ? new UserError(`aws.secrets: ${f.message}`) : new KeyrackError(`${who}: ${f.message}`);
}

export const vault: Vault = {
  id: 'aws.secrets',

  validate: targetProblem,

  // Nothing of ours to delete: the secret lives in Secrets Manager.
  async fetch(keys, ctx) {
    const out = new Map<string, Fetched | Error>();
    const calls = new Map<string, { id: string; profile?: string; keys: Array<{ name: string; ref: SecretRef }> }>();
    for (const { name, entry } of keys) {
      const p = targetProblem(entry);
      if (p) {
        out.set(name, new UserError(`aws.secrets: ${p}; fix it with keyrack set ${name} --vault aws.secrets --ref SECRET-ID [--profile P]`));
        continue;
      }
      const ref = parseSecretRef(entry.ref) as SecretRef;
      const id = JSON.stringify([entry.profile ?? null, ref.id]);
      const c = calls.get(id) ?? { id: ref.id, ...(entry.profile !== undefined && { profile: entry.profile }), keys: [] };
      c.keys.push({ name, ref });
      calls.set(id, c);
    }
    if (calls.size === 0) return out;
    const endpoint = endpointFor('SECRETS_MANAGER', ctx.env);
    const aws = AwsRunner.find(ctx.env);
    if (endpoint instanceof Error || !aws) {
      const e = endpoint instanceof Error ? endpoint : new UserError(`aws.secrets: ${AWS_NOT_INSTALLED}`);
      for (const c of calls.values()) for (const k of c.keys) out.set(k.name, e);
      return out;
    }
    await pool([...calls.values()], PARALLEL, async (c) => {
      const region = regionOfArn(c.id);
      const r = await aws.call(['secretsmanager', 'get-secret-value', `--secret-id=${c.id}`],
        { ...(c.profile !== undefined && { profile: c.profile }), ...(region !== undefined && { region }) }, endpoint);
      const who = `aws.secrets (${c.id}${c.profile === undefined ? '' : `, profile ${c.profile}`})`;
      for (const k of c.keys) {
        if (!('json' in r)) { out.set(k.name, failureError(who, r, c.profile, k.name)); continue; }
        const v = selectSecret(r.json, k.ref);
        out.set(k.name, 'value' in v ? { value: v.value } : new UserError(`${who}: ${v.problem}`));
      }
    });
    return out;
  },
};
