/**
 * The registry entry `keyrack set KEY --vault V …` makes from its flags: which
 * flag belongs to which vault (a flag another vault would take is refused, not
 * ignored), and a cmd key's argv, whose program is found now so a typo shows at
 * once. Values are not handled here.
 */
import { resolve } from 'node:path';
import { UserError } from '../errors.js';
import { ENV_NAME } from '../env/names.js';
import type { RegistryEntry, VaultId } from '../registry.js';
import { argvProblem, resolveProgram } from '../vaults/cmd.js';

/** The flags of `set` that say where a key lives. */
export interface SetFlags {
  ref?: string;
  profile?: string;
  /** The words after `--` (cmd). */
  argv?: string[];
  /** keyring: store a value (stdin, or the hidden prompt) instead of referring to an item. */
  store?: boolean;
}

const REF_VAULTS: readonly VaultId[] = ['1password', 'pass', 'keyring', 'hashicorp', 'aws.secrets', 'aws.ssm'];
const PROFILE_VAULTS: readonly VaultId[] = ['aws.sso', 'aws.secrets', 'aws.ssm'];
const REF_HELP: Partial<Record<VaultId, string>> = {
  '1password': 'op://vault/item/field',
  pass: 'path/in/store (or path/in/store#NAME)',
  hashicorp: 'mount/path#field',
  'aws.secrets': 'SECRET-ID (or SECRET-ID#json-field)',
  'aws.ssm': '/param/name',
};

const list = (vs: readonly string[]) => vs.join(', ');

/** The registry entry for KEY in VAULT, or a UserError naming the flag that is wrong. */
export function entryFor(key: string, vault: VaultId, o: SetFlags): RegistryEntry {
  if (o.ref !== undefined && !REF_VAULTS.includes(vault)) throw new UserError(`--ref is only for --vault ${list(REF_VAULTS)}`);
  if (o.profile !== undefined && !PROFILE_VAULTS.includes(vault)) throw new UserError(`--profile is only for --vault ${list(PROFILE_VAULTS)}`);
  if (o.store && vault !== 'keyring') throw new UserError('--store is only for --vault keyring');
  if (o.argv !== undefined && vault !== 'cmd') throw new UserError(`a command after -- is only for --vault cmd (keyrack set ${key} --vault cmd -- PROG ARG…)`);
  if (vault === 'cmd') return { vault, argv: cmdArgv(o.argv) };
  if (vault === 'aws.sso') {
    if (!o.profile) throw new UserError('--vault aws.sso needs --profile NAME (an AWS CLI profile)');
    // A manifest names an aws.sso key bare (it expands to AWS_* and cannot be aliased),
    // so its name must be usable as a manifest line.
    if (!ENV_NAME.test(key)) throw new UserError(`an aws.sso key name must match ${ENV_NAME.source} so a .keyrack can list it (no '-' or '.')`);
    return { vault, profile: o.profile };
  }
  const help = REF_HELP[vault];
  if (help !== undefined) {
    if (!o.ref) throw new UserError(`--vault ${vault} needs --ref ${help}`);
    return o.profile === undefined ? { vault, ref: o.ref } : { vault, ref: o.ref, profile: o.profile };
  }
  // keyring's --ref may be left out when a value is stored (set.ts picks the default).
  if (vault === 'keyring') return o.ref === undefined ? { vault } : { vault, ref: o.ref };
  return { vault };
}

/** The argv to store: checked, with a program given as a relative path made absolute (unlock runs from anywhere). */
function cmdArgv(argv: string[] | undefined): string[] {
  if (argv === undefined || argv.length === 0) throw new UserError('--vault cmd needs the command after --: keyrack set KEY --vault cmd -- PROG [ARG…]');
  const out = [...argv];
  if (out[0]!.includes('/')) out[0] = resolve(out[0]!);
  const p = argvProblem(out);
  if (p) throw new UserError(p);
  if (!resolveProgram(out[0]!, process.env)) {
    throw new UserError(`${out[0]} ${out[0]!.startsWith('/') ? 'is not an executable file' : 'is not found on PATH'}; install it first (nothing stored)`);
  }
  return out;
}
