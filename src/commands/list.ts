/**
 * `keyrack list [--json] [--names]`: the registry's keys, their vault, reference or
 * profile, and their state in the one vocabulary (env/readiness.ts). Never values.
 *
 * `--json` schema, version 2 (stable; documented in docs/json.md):
 *   {
 *     "version": 2,
 *     "keys": [                       // sorted by name; [] when there are none
 *       {
 *         "name": "GITHUB_TOKEN",     // the key name
 *         "vault": "os.secure",       // "os.secure" | "os.direct" | "1password" | "aws.sso" | "pass" | "keyring"
 *                                     //   | "hashicorp" | "aws.secrets" | "aws.ssm" | "cmd"
 *         "ref": "op://…",            // reference-keeping vaults: the reference (absent otherwise)
 *         "profile": "dev",           // aws.sso, aws.secrets, aws.ssm: the AWS CLI profile (absent otherwise)
 *         "argv": ["bw", "get", …],   // cmd only: the command unlock runs (absent otherwise)
 *         "state": "locked"           // "ready" | "locked" | "absent"
 *       },                            //   | "overridden" (a team key your registry also maps: yours wins)
 *       { "name": "DB_URL", "vault": "team", "file": "/p/.keyrack.team", "state": "locked" }
 *                                     // the current project's team file: one row per key
 *     ]
 *   }
 * Version 2 (was 1): the state words are status's: "ready" (was "unlocked", and
 * "stored" for os.direct), "locked", and "absent" for a key whose local vault lost
 * its value. Compatible changes (new fields, new vault or state strings) keep the
 * version; consumers ignore what they do not know. Removing or retyping a field bumps it.
 */
import { heldNames } from '../held.js';
import { keyStates, type KeyState } from '../env/readiness.js';
import { loadRegistry, type VaultId } from '../registry.js';
import { color, colorEnabled } from '../term.js';
import { printable, printableJson } from '../printable.js';
import { TeamFileError } from '../team/file.js';
import { shownArgv } from '../vaults/cmd.js';
import { teamRows, type TeamRow } from './list-team.js';
import { teamOfHere } from './team-resolve.js';

type State = KeyState;

interface Row {
  name: string;
  vault: VaultId | 'team';
  ref?: string;
  profile?: string;
  argv?: string[];
  /** team: the team file. */
  file?: string;
  state: State | TeamRow['state'];
  /** Only `exec` and `get` hand it out (set/mark --exec-only). */
  execOnly?: true;
}

/** The SOURCE column: where the value comes from, never the value. */
function source(r: Row): string {
  if (r.argv) return `cmd: ${shownArgv(r.argv)}`;
  if (r.file !== undefined) return printable(r.file);
  if (r.ref !== undefined) return r.profile ? `${r.ref} (profile ${r.profile})` : r.ref;
  return r.profile ? `profile ${r.profile}` : '-';
}

export async function run(o: { json: boolean; names?: boolean }): Promise<number | void> {
  const env = process.env;
  const reg = loadRegistry(env);
  const names = Object.keys(reg.keys).sort();
  if (o.names) {
    // For completion and scripts: no daemon to ask, nothing but names.
    if (names.length > 0) process.stdout.write(names.join('\n') + '\n');
    return;
  }
  const team = teamOfHere(env);
  if (team instanceof TeamFileError) process.stderr.write(`keyrack: ${printable(team.message)}\n`);
  const hasTeam = team !== null && !(team instanceof TeamFileError) && team.file.values.size > 0;
  const held = hasTeam || names.some((n) => reg.keys[n]!.vault !== 'os.direct') ? await heldNames(env) : new Set<string>();
  const states = await keyStates(names, reg, held, env);
  const rows: Row[] = names.map((name) => {
    const e = reg.keys[name]!;
    return {
      name, vault: e.vault, ...(e.ref !== undefined && { ref: e.ref }), ...(e.profile !== undefined && { profile: e.profile }),
      ...(e.argv !== undefined && { argv: e.argv }), state: states.get(name)!, ...(e.execOnly && { execOnly: true as const }),
    };
  });
  if (hasTeam) {
    // Beside the registry's row of the same name (yours first), in name order.
    rows.push(...teamRows(team, reg, held));
    rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : Number(a.vault === 'team') - Number(b.vault === 'team')));
  }

  if (o.json) {
    process.stdout.write(printableJson(JSON.stringify({ version: 2, keys: rows }, null, 2)) + '\n');
    return;
  }
  if (rows.length === 0) {
    process.stderr.write('no keys yet; add one with: keyrack set KEY\n');
    return;
  }
  const table = [['KEY', 'VAULT', 'SOURCE', 'STATE'], ...rows.map((r) => [r.name, r.vault, source(r), r.execOnly ? `${r.state}, exec-only` : r.state])];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  // Colour goes on after padding: escape codes have no width.
  const p = color(colorEnabled(process.stdout));
  const paint: Record<string, (s: string) => string> = { ready: p.green, locked: p.yellow, absent: p.red, overridden: p.dim };
  const lines = table.map((row, r) => row.map((cell, c) => {
    const padded = c === row.length - 1 ? cell : cell.padEnd(widths[c]!);
    if (r === 0) return p.bold(padded);
    if (c === 3) return (paint[cell.split(',')[0]!] ?? ((s: string) => s))(padded);
    return c === 2 && cell === '-' ? p.dim(padded) : padded;
  }).join('  '));
  process.stdout.write(lines.join('\n') + '\n');
}
