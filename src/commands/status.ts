/**
 * `keyrack status [--json]`: the daemon, this login session, how callers are
 * checked, the keys held (names and time left — never values), and the current
 * manifest's keys as ready / locked / absent, with its trust — in the words of
 * env/readiness.ts, the ones every command and the hook use.
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
 *     "shared": boolean                // a user-wide daemon (KEYRACK_USER_DAEMON=1, systemd --user)
 *   },                                 //   serving every session of this uid; see docs/systemd.md
 *   "keys": [{ "name": string, "expiresAt": number, "secondsLeft": number,
 *              "refresh": boolean, "vars"?: string[],      // vars: aws.sso keys
 *              "idleMs"?: number }],                      // unlock --idle: dropped once unused this long
 *   "manifest": null | {
 *     "path": string,
 *     "trust": "allowed" | "denied" | "untrusted" | "changed",
 *     "entries": [{ "env": string, "key": string, "optional": boolean,
 *                   "state": "ready" | "locked" | "absent" }]
 *   },
 *   "manifestError": string | null     // a manifest that fails to parse
 * }
 * ready: held by the daemon, or a local key with a value; locked: registered, not
 * unlocked; absent: not in the registry, or its local vault holds no value for it.
 * Version 2 (was 1): a manifest edited since it was allowed is "changed", no longer
 * "untrusted"; an os.secure key whose file is gone is "absent", no longer "locked".
 */
import { messageOf } from '../errors.js';
import { loadManifest, type Manifest } from '../env/manifest.js';
import { keyStates, words, type KeyState } from '../env/readiness.js';
import { currentDir } from '../env/scope.js';
import { forHumans, printableJson } from '../printable.js';
import { sessionId, socketPath } from '../paths.js';
import { loadRegistry } from '../registry.js';
import { trustOf, type Trust } from '../env/trust.js';
import { withDaemon } from '../daemon/client.js';
import { formatDuration } from '../duration.js';
import type { DaemonStatus } from '../daemon/protocol.js';

type State = KeyState;


export interface StatusJson {
  version: 2;
  schema: 2;
  session: number | null;
  socket: string;
  daemon: null | Omit<DaemonStatus, 'keys' | 'socket' | 'gen'>;
  keys: Array<{ name: string; expiresAt: number; secondsLeft: number; refresh: boolean; vars?: string[]; idleMs?: number }>;
  manifest: null | { path: string; trust: Trust; entries: Array<{ env: string; key: string; optional: boolean; state: State }> };
  manifestError: string | null;
}

async function collect(env: NodeJS.ProcessEnv): Promise<StatusJson> {
  const got = await withDaemon(env, async (c) => ({ st: (await c.request({ op: 'status' })).status, path: c.path }));
  const st = got?.st;
  const now = Date.now();
  const out: StatusJson = {
    version: 2, schema: 2, session: sessionId(), socket: got?.path ?? socketPath(env, false), daemon: null, keys: [], manifest: null, manifestError: null,
  };
  if (st) {
    out.daemon = {
      pid: st.pid, session: st.session, mode: st.mode, check: st.check,
      startedAt: st.startedAt, dumpable: st.dumpable, refreshWindowMs: st.refreshWindowMs, shared: st.shared === true,
    };
    out.keys = st.keys.map((k) => ({ ...k, secondsLeft: Math.max(0, Math.floor((k.expiresAt - now) / 1000)) }));
  }
  let m: Manifest | null = null;
  try {
    m = loadManifest(currentDir(process.env));
  } catch (e) {
    out.manifestError = messageOf(e);
  }
  if (m) {
    const reg = loadRegistry(env);
    const held = new Set(out.keys.map((k) => k.name));
    const states = await keyStates(m.entries.map((e) => e.key), reg, held, env);
    out.manifest = {
      path: m.path,
      trust: trustOf(m, env),
      entries: m.entries.map((e) => ({ env: e.env, key: e.key, optional: e.optional, state: states.get(e.key)! })),
    };
  }
  return out;
}

function text(s: StatusJson): string {
  const lines: string[] = [];
  const row = (label: string, value: string) => lines.push(`${label.padEnd(9)} ${value}`);
  if (s.daemon) {
    const d = s.daemon;
    row('daemon', `running, pid ${d.pid}, up ${formatDuration(Date.now() - d.startedAt)}${d.dumpable === false ? ', non-dumpable' : ', DUMPABLE'}`);
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
  } else {
    row('daemon', 'not running (keyrack unlock starts it)');
    row('session', s.session === null ? 'uid-only: no audit session id' : String(s.session));
  }
  row('socket', s.socket);
  if (s.daemon) {
    row('keys', s.keys.length === 0 ? 'none held' : `${s.keys.length} held`);
    const w = Math.max(...s.keys.map((k) => k.name.length), 0);
    for (const k of s.keys) {
      const extra = [
        k.vars ? k.vars.join(' ') : '', k.refresh ? 'refreshes before expiry' : '',
        k.idleMs !== undefined ? `goes after ${formatDuration(k.idleMs)} unused` : '',
      ].filter(Boolean).join('; ');
      lines.push(`  ${k.name.padEnd(w)}  ${formatDuration(k.secondsLeft * 1000)} left${extra ? ` (${extra})` : ''}`);
    }
  }
  if (s.manifestError) row('manifest', `error: ${s.manifestError}`);
  else if (!s.manifest) row('manifest', 'none in this directory or above');
  else {
    row('manifest', `${s.manifest.path} (${words.trust(s.manifest.trust)})`);
    const label = (e: { env: string; key: string; optional: boolean }) => `${e.env}${e.optional ? '?' : ''}${e.key !== e.env ? ` <- ${e.key}` : ''}`;
    const w = Math.max(...s.manifest.entries.map((e) => label(e).length), 0);
    for (const e of s.manifest.entries) {
      lines.push(`  ${label(e).padEnd(w)}  ${e.state}${e.optional && e.state !== 'ready' ? ' (optional)' : ''}`);
    }
  }
  return lines.join('\n') + '\n';
}

export async function run(o: { json: boolean }): Promise<number | void> {
  const s = await collect(process.env);
  // Paths (the manifest's, the socket's) are directories' names: escaped, line by line.
  process.stdout.write(o.json ? printableJson(JSON.stringify(s, null, 2)) + '\n' : text(s).split('\n').map((l) => forHumans(l)).join('\n'));
  return s.manifestError ? 2 : 0;
}
