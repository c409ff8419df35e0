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
 *         "vault": "os.secure",       // "os.secure" | "os.direct" | "1password" | "aws.sso"
 *         "ref": "op://…",            // 1password only: the reference (absent otherwise)
 *         "profile": "dev",           // aws.sso only: the AWS CLI profile (absent otherwise)
 *         "state": "locked"           // "ready" | "locked" | "absent"
 *       }
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

type State = KeyState;

interface Row {
  name: string;
  vault: VaultId;
  ref?: string;
  profile?: string;
  state: State;
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
  const held = names.some((n) => reg.keys[n]!.vault !== 'os.direct') ? await heldNames(env) : new Set<string>();
  const states = await keyStates(names, reg, held, env);
  const rows: Row[] = names.map((name) => {
    const e = reg.keys[name]!;
    return { name, vault: e.vault, ...(e.ref !== undefined && { ref: e.ref }), ...(e.profile !== undefined && { profile: e.profile }), state: states.get(name)! };
  });

  if (o.json) {
    process.stdout.write(JSON.stringify({ version: 2, keys: rows }, null, 2) + '\n');
    return;
  }
  if (rows.length === 0) {
    process.stderr.write('no keys yet; add one with: keyrack set KEY\n');
    return;
  }
  const table = [['KEY', 'VAULT', 'SOURCE', 'STATE'], ...rows.map((r) => [r.name, r.vault, r.ref ?? (r.profile ? `profile ${r.profile}` : '-'), r.state])];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  // Colour goes on after padding: escape codes have no width.
  const p = color(colorEnabled(process.stdout));
  const paint: Record<State, (s: string) => string> = { ready: p.green, locked: p.yellow, absent: p.red };
  const lines = table.map((row, r) => row.map((cell, c) => {
    const padded = c === row.length - 1 ? cell : cell.padEnd(widths[c]!);
    if (r === 0) return p.bold(padded);
    if (c === 3) return (paint[cell as State] ?? ((s: string) => s))(padded);
    return c === 2 && cell === '-' ? p.dim(padded) : padded;
  }).join('  '));
  process.stdout.write(lines.join('\n') + '\n');
}
