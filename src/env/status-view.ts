/**
 * What `keyrack status [--json]` prints: the daemon, this login session, how callers
 * are checked, the keys held (names and time left — never values), and the current
 * manifest's keys as ready / locked / absent, with its trust — in the words of
 * readiness.ts, the ones every command and the hook use. Rendered here, from what
 * the daemon reports (src/view-input.ts), for both the Node CLI (commands/status.ts)
 * and the daemon's cli-view op, which answers keyrack-fast without Node's start.
 *
 * JSON schema (stable; fields are only ever added; documented in docs/json.md):
 * {
 *   "version": 2,
 *   "schema": 2,                       // the same, under its first name
 *   "session": number | null,          // this process's audit session id; null = unset (uid-only)
 *   "socket": string,                  // the socket of the daemon serving this shell (else this session's)
 *   "daemon": null | {                 // null: not running
 *     "pid": number,
 *     "session": number | null,        // the daemon's session; null in uid-only mode
 *     "mode": "session" | "uid-only",
 *     "check": string,                 // e.g. "SO_PEERCRED uid + audit session 3 via SO_PEERPIDFD"
 *     "startedAt": number,             // epoch ms
 *     "dumpable": boolean | null,      // false = non-dumpable; null = native module missing
 *     "refreshWindowMs": number,
 *     "shared": boolean,               // a user-wide daemon (KEYRACK_USER_DAEMON=1, systemd --user)
 *                                      //   serving every session of this uid; see docs/systemd.md
 *     "verified": "session" | "uid-only" | "user-wide, uid-only" | "file permissions only"
 *   },                                 // how this client checked the daemon before sending it a byte
 *   "keys": [{ "name": string, "expiresAt": number, "secondsLeft": number,
 *              "refresh": boolean, "vars"?: string[],      // vars: aws.sso keys
 *              "idleMs"?: number,                         // unlock --idle: dropped once unused this long
 *              "vault"?: string,                         // its vault in the registry (absent: no longer there)
 *              "execOnly"?: true,                        // held for exec only (exec unlocked it)
 *              "source": "registry" | "team" }],          // team: a value from a project's team file
 *   "manifest": null | {
 *     "path": string,
 *     "trust": "allowed" | "denied" | "untrusted" | "changed",
 *     "entries": [{ "env": string, "key": string, "optional": boolean,
 *                   "state": "ready" | "locked" | "absent" | "refused",
 *                   "vault"?: string,                   // absent when the key is not in the registry
 *                   "execOnly"?: true,                  // the hook leaves it out
 *                   "source": string | null }],         // the vault, "team", or null (absent)
 *     "team": string | null            // the team file beside it, when there is one
 *   },
 *   "manifestError": string | null,    // a manifest that fails to parse
 *   "teamError": string | null         // a team file that fails to parse
 * }
 * ready: held by the daemon, or a local key with a value; locked: in the registry
 * (or the team file) but not unlocked; absent: in neither, or its local vault
 * holds no value for it; refused: a team value for a variable only your own key
 * may fill. Version 2 (was 1): a manifest edited since it was allowed is
 * "changed", no longer "untrusted"; an os.secure key whose file is gone is
 * "absent", no longer "locked".
 */
import { messageOf } from '../errors.js';
import { formatDuration } from '../duration.js';
import { forHumans, printableJson } from '../printable.js';
import { loadRegistry, type Registry, type VaultId } from '../registry.js';
import { TeamFileError } from '../team/file.js';
import { parseStoreName } from '../team/storename.js';
import type { Caller, DaemonFacts, Verified, ViewOutput } from '../view-input.js';
import { loadManifest, type Manifest } from './manifest.js';
import { keyStates, words, type KeyState } from './readiness.js';
import { currentDir } from './scope.js';
import { teamSourceOrError, teamVarProblem } from './team-scope.js';
import { trustOf, type Trust } from './trust.js';

type State = KeyState | 'refused';

/** What status is rendered from. */
export interface StatusInput extends Caller {
  /** The daemon that answered and how this client checked it; null: none runs. */
  daemon: { facts: DaemonFacts; verified: Verified } | null;
  /** The socket of that daemon (else this session's). */
  socket: string;
  /** The caller's audit session; null when unset. */
  session: number | null;
  json: boolean;
  /** Epoch ms: time left and uptime are counted from it. */
  now: number;
}

/** status --json (docs/json.md). */
export interface StatusJson {
  version: 2;
  schema: 2;
  session: number | null;
  socket: string;
  daemon: null | (Omit<DaemonFacts, 'keys' | 'shared'> & { shared: boolean; verified: Verified });
  keys: Array<{ name: string; expiresAt: number; secondsLeft: number; refresh: boolean; vars?: string[]; idleMs?: number; vault?: VaultId; execOnly?: true; source: 'registry' | 'team' }>;
  manifest: null | {
    path: string; trust: Trust; team: string | null;
    entries: Array<{ env: string; key: string; optional: boolean; state: State; vault?: VaultId; execOnly?: true; source: string | null }>;
  };
  manifestError: string | null;
  teamError: string | null;
}

async function collect(i: StatusInput): Promise<StatusJson> {
  const { env, now } = i;
  const st = i.daemon?.facts;
  const out: StatusJson = {
    version: 2, schema: 2, session: i.session, socket: i.socket, daemon: null, keys: [], manifest: null, manifestError: null, teamError: null,
  };
  if (st) {
    out.daemon = {
      pid: st.pid, session: st.session, mode: st.mode, check: st.check,
      startedAt: st.startedAt, dumpable: st.dumpable, refreshWindowMs: st.refreshWindowMs, shared: st.shared === true,
      verified: i.daemon!.verified,
    };
    out.keys = st.keys.map((k) => {
      // A team value is held as team:<file id>:KEY: shown as the key it is, with its source.
      const { key, team } = parseStoreName(k.name);
      return { ...k, name: key, secondsLeft: Math.max(0, Math.floor((k.expiresAt - now) / 1000)), source: team === undefined ? 'registry' as const : 'team' as const };
    }).sort((a, b) => a.name.localeCompare(b.name) || Number(a.source === 'team') - Number(b.source === 'team')); // as the store sorts
    // The vault of each of your held keys, from the registry (the daemon keeps values, not where they came from).
    let reg: Registry | undefined;
    try {
      reg = loadRegistry(env);
    } catch {
      reg = undefined;
    }
    for (const k of out.keys) {
      const v = k.source === 'registry' ? reg?.keys[k.name]?.vault : undefined;
      if (v !== undefined) k.vault = v;
    }
  }
  let m: Manifest | null = null;
  try {
    m = loadManifest(currentDir(env, i.cwd));
  } catch (e) {
    out.manifestError = messageOf(e);
  }
  if (m) {
    const reg = loadRegistry(env);
    // The daemon's own names: a team value is held as team:<file id>:KEY, never as KEY.
    const held = new Set(st?.keys.map((k) => k.name) ?? []);
    const team = teamSourceOrError(m);
    if (team instanceof TeamFileError) out.teamError = team.message;
    const t = team instanceof TeamFileError ? null : team;
    const states = await keyStates(m.entries.map((e) => e.key), reg, held, env);
    out.manifest = {
      path: m.path,
      trust: trustOf(m, env),
      team: t?.file.path ?? null,
      entries: m.entries.map((e) => {
        const entry = reg.keys[e.key];
        let state: State = states.get(e.key)!;
        let source: string | null = entry?.vault ?? null;
        if (!entry && t?.file.values.has(e.key)) {
          source = 'team';
          state = teamVarProblem(e.env, e.key) ? 'refused' : held.has(t.storeName(e.key)) ? 'ready' : 'locked';
        }
        // Marked by the user (registry) or by the manifest's line: the hook leaves it out either way.
        const execOnly = entry?.execOnly || e.execOnly ? { execOnly: true as const } : {};
        return { env: e.env, key: e.key, optional: e.optional, state, ...(entry && { vault: entry.vault }), ...execOnly, source };
      }),
    };
  }
  return out;
}

/** How this client checked the daemon before it sent a byte, in words. */
const VERIFIED: Record<Verified, string> = {
  session: 'by this client: your uid, and in this login session (pinned by pidfd)',
  // "uid-only" is said once, by the session row.
  'uid-only': 'by this client: your uid (this process has no audit session)',
  'user-wide, uid-only': 'by this client: your uid (you opted in to a user-wide daemon, docs/systemd.md)',
  'file permissions only': 'by this client: socket file permissions only (native module missing)',
};

function text(s: StatusJson, now: number): string {
  const lines: string[] = [];
  const row = (label: string, value: string) => lines.push(`${label.padEnd(9)} ${value}`);
  if (s.daemon) {
    const d = s.daemon;
    row('daemon', `running, pid ${d.pid}, up ${formatDuration(now - d.startedAt)}${d.dumpable === false ? ', non-dumpable' : ', DUMPABLE'}`);
    if (d.shared) {
      row('session', `user-wide daemon (uid-only): serves every login session of your uid${s.session === null ? '' : `; this shell is in session ${s.session}`}`);
      row('check', d.check);
    } else if (d.session === null) {
      // Said once: the check is uid-only for the same reason.
      row('session', `uid-only: no audit session id, so any process of your uid may ask (checked: ${d.check.replace(/ only \(uid-only[^)]*\)$/, '')})`);
    } else {
      row('session', String(d.session));
      row('check', d.check);
    }
    row('verified', VERIFIED[d.verified]);
  } else {
    row('daemon', 'not running (keyrack unlock starts it)');
    row('session', s.session === null ? 'uid-only: no audit session id' : String(s.session));
  }
  row('socket', s.socket);
  if (s.daemon) {
    row('keys', s.keys.length === 0 ? 'none held' : `${s.keys.length} held`);
    const w = Math.max(...s.keys.map((k) => k.name.length + (k.source === 'team' ? 7 : 0)), 0);
    for (const k of s.keys) {
      const extra = [
        k.vars ? k.vars.join(' ') : '', k.refresh ? 'refreshes before expiry' : '',
        k.idleMs !== undefined ? `goes after ${formatDuration(k.idleMs)} unused` : '',
        k.execOnly ? 'for keyrack exec only: exec unlocked it' : '',
      ].filter(Boolean).join('; ');
      const name = k.source === 'team' ? `${k.name} (team)` : k.name;
      lines.push(`  ${name.padEnd(w)}  ${formatDuration(k.secondsLeft * 1000)} left${extra ? ` (${extra})` : ''}`);
    }
  }
  if (s.manifestError) row('manifest', `error: ${s.manifestError}`);
  else if (!s.manifest) row('manifest', 'none in this directory or above');
  else {
    row('manifest', `${s.manifest.path} (${words.trust(s.manifest.trust)})`);
    if (s.manifest.team) row('team', s.manifest.team);
    const label = (e: { env: string; key: string; optional: boolean }) => `${e.env}${e.optional ? '?' : ''}${e.key !== e.env ? ` <- ${e.key}` : ''}`;
    const w = Math.max(...s.manifest.entries.map((e) => label(e).length), 0);
    for (const e of s.manifest.entries) {
      const from = e.source === 'team' ? ' (team)' : '';
      const notes = [e.optional && e.state !== 'ready' ? 'optional' : '', e.execOnly ? 'exec-only: keyrack exec only' : ''].filter(Boolean).join('; ');
      lines.push(`  ${label(e).padEnd(w)}  ${e.state}${from}${notes ? ` (${notes})` : ''}`);
    }
  }
  if (s.teamError) row('team', `error: ${s.teamError}`);
  return lines.join('\n') + '\n';
}

/** status's output and exit code (2 when the manifest or its team file does not parse). Throws what the CLI reports as an error. */
export async function statusView(i: StatusInput): Promise<ViewOutput> {
  const s = await collect(i);
  // Paths (the manifest's, the socket's) are directories' names: escaped, line by line.
  const stdout = i.json ? printableJson(JSON.stringify(s, null, 2)) + '\n' : text(s, i.now).split('\n').map((l) => forHumans(l, i.env)).join('\n');
  return { code: s.manifestError || s.teamError ? 2 : 0, stdout, stderr: '' };
}
