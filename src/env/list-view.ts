/**
 * What `keyrack list [--json] [--names]` prints: the registry's keys, their vault,
 * reference or profile, and their state in the one vocabulary (readiness.ts); never
 * values. Rendered here for both the Node CLI (commands/list.ts) and the daemon's
 * cli-view op, which answers keyrack-fast without Node's start.
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
import { loadRegistry, type VaultId } from '../registry.js';
import { color } from '../term.js';
import { printable, printableJson } from '../printable.js';
import { TeamFileError } from '../team/file.js';
import { shownArgv } from '../vaults/cmd.js';
import type { Caller, ViewOutput } from '../view-input.js';
import { teamRows, type TeamRow } from './list-team.js';
import { keyStates, type KeyState } from './readiness.js';
import { teamOfProject } from './team-here.js';

/** The daemon's names for what it holds (team values as team:<file id>:KEY), and a line to say when it could not be asked. */
export interface HeldNames {
  names: ReadonlySet<string>;
  warning?: string;
}

/** What list is rendered from. */
export interface ListInput extends Caller {
  json: boolean;
  names: boolean;
  /** Human output may be coloured (term.ts colorEnabled of the caller's stdout). */
  color: boolean;
  /** Asked only when a state depends on it (never for --names, nor for os.direct keys alone). */
  held(): Promise<HeldNames>;
}

interface Row {
  name: string;
  vault: VaultId | 'team';
  ref?: string;
  profile?: string;
  argv?: string[];
  /** team: the team file. */
  file?: string;
  state: KeyState | TeamRow['state'];
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

function table(rows: Row[], on: boolean): string {
  const cells = [['KEY', 'VAULT', 'SOURCE', 'STATE'], ...rows.map((r) => [r.name, r.vault, source(r), r.execOnly ? `${r.state}, exec-only` : r.state])];
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  // Colour goes on after padding: escape codes have no width.
  const p = color(on);
  const paint: Record<string, (s: string) => string> = { ready: p.green, locked: p.yellow, absent: p.red, overridden: p.dim };
  const lines = cells.map((row, r) => row.map((cell, c) => {
    const padded = c === row.length - 1 ? cell : cell.padEnd(widths[c]!);
    if (r === 0) return p.bold(padded);
    if (c === 3) return (paint[cell.split(',')[0]!] ?? ((s: string) => s))(padded);
    return c === 2 && cell === '-' ? p.dim(padded) : padded;
  }).join('  '));
  return lines.join('\n') + '\n';
}

/** list's output (exit code 0). Throws what the CLI reports as an error (a registry that does not parse). */
export async function listView(i: ListInput): Promise<ViewOutput> {
  const reg = loadRegistry(i.env);
  const names = Object.keys(reg.keys).sort();
  // For completion and scripts: no daemon to ask, nothing but names.
  if (i.names) return { code: 0, stdout: names.length > 0 ? names.join('\n') + '\n' : '', stderr: '' };
  let stderr = '';
  const team = teamOfProject(i.env, i.cwd);
  if (team instanceof TeamFileError) stderr += `keyrack: ${printable(team.message)}\n`;
  const hasTeam = team !== null && !(team instanceof TeamFileError) && team.file.values.size > 0;
  let held: ReadonlySet<string> = new Set<string>();
  if (hasTeam || names.some((n) => reg.keys[n]!.vault !== 'os.direct')) {
    const got = await i.held();
    held = got.names;
    if (got.warning !== undefined) stderr += got.warning;
  }
  const states = await keyStates(names, reg, held, i.env);
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
  if (i.json) return { code: 0, stdout: printableJson(JSON.stringify({ version: 2, keys: rows }, null, 2)) + '\n', stderr };
  if (rows.length === 0) return { code: 0, stdout: '', stderr: stderr + 'no keys yet; add one with: keyrack set KEY\n' };
  return { code: 0, stdout: table(rows, i.color), stderr };
}
