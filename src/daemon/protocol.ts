/**
 * The daemon's wire protocol, version 1: newline-delimited JSON frames over the
 * unix socket. The server speaks first (hello, after the caller passed the kernel
 * checks); then the client sends requests with an id and gets one response each.
 * Frames are capped: a longer line, or one that is not a JSON object, closes
 * that connection only.
 */

export const PROTOCOL_VERSION = 1;
export const MAX_FRAME = 1024 * 1024;
/** A connection that sends nothing for this long is closed. */
export const IDLE_TIMEOUT_MS = 30_000;

import type { HeldKey, Unlocked } from '../secret.js';
import { MAX_VALUE_BYTES, valueBytes } from '../limits.js';
import { STORE_NAME } from '../team/storename.js';
import { VERIFIED_BY, type DaemonFacts, type HeldKeyFacts, type Verified } from '../view-input.js';

/** The values the wire carries (src/secret.ts). */
export type { HeldKey, Secret, Source, Unlocked } from '../secret.js';

/** Bounds on Source.state. */
const MAX_STATE_ENTRIES = 32;
const MAX_STATE_VALUE = 16 * 1024;
const STATE_NAME = /^[A-Za-z][A-Za-z0-9]{0,31}$/;

export interface Hello {
  keyrack: typeof PROTOCOL_VERSION;
  pid: number;
  /** Audit session id, or null in uid-only mode. */
  session: number | null;
  mode: 'session' | 'uid-only';
  gen: string;
  /**
   * A uid-only daemon started to serve every login session of its user
   * (KEYRACK_USER_DAEMON=1, e.g. under systemd --user): shells whose own session
   * has no daemon may use it. Absent from daemons that do not.
   */
  shared?: boolean;
}

/**
 * The program an `exec` is about to run, as its client says (resolved path and
 * argv[0]): recorded in the audit log marked client-reported, never trusted for a decision.
 */
export interface Program {
  path: string;
  argv0: string;
}

export type Request =
  | { id: number; op: 'ping' }
  /** `program`: the values are for `keyrack exec` of that program (the audit log's op is then exec). */
  | { id: number; op: 'get'; keys: string[]; program?: Program; purpose?: 'export' }
  /** `execOnly`: held for `keyrack exec` only (it unlocked them on a terminal): never in an export. */
  | { id: number; op: 'put'; ttlMs: number; idleMs?: number; keys: Record<string, Unlocked>; execOnly?: true }
  | { id: number; op: 'lock'; keys?: string[] }
  | { id: number; op: 'status' }
  | { id: number; op: 'stop' }
  /**
   * Passphrase back-off, held per session by the daemon: `record` a failed or a
   * successful attempt; the answer's delayMs is how long to wait before asking again.
   */
  | { id: number; op: 'backoff'; record?: 'failure' | 'success' }
  /**
   * The fast path of `keyrack export SHELL` (native/keyrack_fast.c): the caller's cwd
   * and environment in, what `export` would print out (code, stdout, stderr).
   */
  | { id: number; op: 'export'; shell: string; cwd: string; env: Record<string, string> }
  /**
   * The fast path of `keyrack exec` (keyrack-fast): the variables to add to the
   * command's environment, or code 2 when the Node CLI must handle it (locked,
   * untrusted, absent: it prints why, and may offer to unlock on a terminal).
   */
  | { id: number; op: 'exec-env'; cwd: string; env: Record<string, string>; keys: string[]; program?: Program }
  /**
   * The fast path of `keyrack get KEY` (keyrack-fast): what `get` would print, with
   * code 0; any other code and the client hands over to the Node CLI, which says why.
   */
  | { id: number; op: 'cli-get'; cwd: string; env: Record<string, string>; key: string }
  /**
   * The fast path of `keyrack status [--json]` and `keyrack list [--json|--names]`
   * (keyrack-fast): what they would print, from the same views (src/env/status-view.ts,
   * list-view.ts) and this daemon's store, with what only the client knows: how it
   * checked this daemon (verified), the socket it used, its audit session, and whether
   * its stdout is a terminal (colour, by term.ts colorEnabled with `env`).
   */
  | CliViewRequest;

/** See the cli-view op above. */
export interface CliViewRequest {
  id: number; op: 'cli-view'; view: 'status' | 'list'; json: boolean; names: boolean;
  cwd: string; env: Record<string, string>; verified: Verified; socket: string; session: number | null; tty: boolean;
}

/** Bounds on an export request's environment. */
export const EXPORT_MAX_VARS = 4096;

/** One held key as the status op reports it: the views' shape (src/view-input.ts), which the daemon fills. */
export type KeyStatus = HeldKeyFacts;

/** The status op's answer: what the views take (src/view-input.ts), plus the socket and the generation. */
export interface DaemonStatus extends DaemonFacts {
  socket: string;
  gen: string;
}

/** The ops a client may ask for. */
export type Op = Request['op'];

/** The request of one op. */
export type RequestOf<O extends Op> = { [R in Request as R['op']]: R }[O];

/** What each op answers, beside its id and ok: true. */
export interface Replies {
  ping: { gen: string };
  get: { keys: Record<string, HeldKey> };
  put: { gen: string };
  /** `said`: what `keyrack lock` prints for these keys (lock-words.ts), for keyrack-fast to relay. */
  lock: { removed: string[]; gen: string; said: string };
  status: { status: DaemonStatus };
  stop: Record<never, never>;
  backoff: { delayMs: number };
  /** What `keyrack export` would exit with and print. */
  export: { code: number; stdout: string; stderr: string };
  /** The variables to add (with code 0), or code 2 and none: the CLI must handle it. */
  'exec-env': { code: number; vars: Record<string, string> };
  /** What `keyrack get` would exit with and print (stdout only with code 0). */
  'cli-get': { code: number; stdout: string };
  /** What `keyrack status` or `keyrack list` would exit with and print. */
  'cli-view': { code: number; stdout: string; stderr: string };
}

/** The answer to a request of op O. */
export type OkResponse<O extends Op = Op> = { [P in O]: { id: number; ok: true } & Replies[P] }[O];
/** A request that failed; `error` never quotes the request (it may hold a secret). */
export type ErrorResponse = { id: number; ok: false; error: string };
/** Every frame the daemon answers a request with. */
export type Response = OkResponse | ErrorResponse;

export function encodeFrame(msg: unknown): string {
  return JSON.stringify(msg) + '\n';
}

/**
 * Splits a byte stream into frames. Throws on a frame over MAX_FRAME or one that
 * is not a JSON object; the caller closes the connection.
 *
 * Linear in the input however it is chunked: each push scans only its own chunk
 * (a writer sending one byte at a time must not make every push rescan the
 * pending megabyte).
 */
export class FrameDecoder {
  /** The start of a frame whose newline has not arrived yet. */
  private buf = '';
  /** Its length in UTF-8 bytes. */
  private bytes = 0;

  /** `max`: the daemon reads MAX_FRAME from callers; a client reads larger answers (many values) from a checked daemon. */
  constructor(private readonly max: number = MAX_FRAME) {}

  push(chunk: string): unknown[] {
    const out: unknown[] = [];
    let from = 0;
    let nl: number;
    while ((nl = chunk.indexOf('\n', from)) !== -1) {
      const piece = chunk.slice(from, nl);
      from = nl + 1;
      if (this.bytes + Buffer.byteLength(piece) > this.max) throw new Error('frame too large');
      const line = this.buf + piece;
      this.buf = '';
      this.bytes = 0;
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        throw new Error('frame is not JSON');
      }
      if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) throw new Error('frame is not a JSON object');
      out.push(msg);
    }
    const rest = from === 0 ? chunk : chunk.slice(from);
    this.bytes += Buffer.byteLength(rest);
    if (this.bytes > this.max) throw new Error('frame too large');
    this.buf += rest;
    return out;
  }

  /** Bytes held for an unfinished frame (never more than its max). */
  get pending(): number {
    return this.bytes;
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Valid UTF-8 without NUL: a lone surrogate cannot be encoded, a NUL cannot be exported. */
const goodText = (v: unknown): v is string => typeof v === 'string' && !v.includes('\0') && !/[\uD800-\uDFFF]/u.test(v);
// A registry key's name, or a team value's (team:<file id>:KEY).
const KEY = STORE_NAME;
const VAR = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** The most keys one get, put, lock or exec-env request may name: clients split longer lists (client.ts). */
export const MAX_KEYS = 1000;
/**
 * The most a client reads in one answer: a get of GET_CHUNK_KEYS values at the
 * value limit, even if every character needed a six-byte JSON escape.
 */
export const MAX_ANSWER_FRAME = 64 * 1024 * 1024;
/** The names per get a client sends (its answer fits MAX_ANSWER_FRAME). */
export const GET_CHUNK_KEYS = 250;
/** The bytes of put requests a client builds (half a frame: room for JSON's escapes of the last key). */
export const PUT_CHUNK_BYTES = MAX_FRAME / 2;

function keyList(v: unknown): string[] | string {
  if (!Array.isArray(v) || v.length > MAX_KEYS) return 'keys must be a list of names';
  for (const k of v) if (typeof k !== 'string' || !KEY.test(k)) return 'bad key name';
  return v as string[];
}

const MAX_PROGRAM = 4096;

/** An optional Program field: undefined when absent, a string when malformed. */
function programOf(v: unknown): Program | undefined | string {
  if (v === undefined) return undefined;
  if (!isObj(v) || !goodText(v.path) || !goodText(v.argv0) || v.path.length > MAX_PROGRAM || v.argv0.length > MAX_PROGRAM) return 'program must be {path, argv0}';
  return { path: v.path, argv0: v.argv0 };
}

function secretOf(v: unknown): (Unlocked) | string {
  if (!isObj(v)) return 'a value must be an object';
  let out: Unlocked;
  if ('value' in v) {
    if (!goodText(v.value)) return 'value must be UTF-8 text without NUL';
    if (valueBytes(v.value) > MAX_VALUE_BYTES) return 'value is over the size limit';
    out = { value: v.value };
  } else if (isObj(v.env)) {
    const env: Record<string, string> = {};
    for (const [name, val] of Object.entries(v.env)) {
      if (!VAR.test(name) || !goodText(val)) return 'bad variable in env';
      if (valueBytes(val) > MAX_VALUE_BYTES) return 'a variable in env is over the size limit';
      env[name] = val;
    }
    if (Object.keys(env).length === 0) return 'env is empty';
    out = { env };
  } else {
    return 'a value needs value or env';
  }
  if (v.expiresAt !== undefined) {
    if (typeof v.expiresAt !== 'number' || !Number.isFinite(v.expiresAt)) return 'expiresAt must be a number';
    out.expiresAt = v.expiresAt;
  }
  if (v.source !== undefined) {
    const s = v.source;
    if (!isObj(s) || typeof s.vault !== 'string' || (s.profile !== undefined && typeof s.profile !== 'string')) return 'bad source';
    out.source = s.profile === undefined ? { vault: s.vault } : { vault: s.vault, profile: s.profile };
    if (s.state !== undefined) {
      if (!isObj(s.state) || Object.keys(s.state).length > MAX_STATE_ENTRIES) return 'bad source';
      const state: Record<string, string> = {};
      for (const [k, val] of Object.entries(s.state)) {
        if (!STATE_NAME.test(k) || !goodText(val) || val.length > MAX_STATE_VALUE) return 'bad source';
        state[k] = val;
      }
      out.source.state = state;
    }
  }
  return out;
}

/**
 * Checks a decoded frame against the Request union. Returns the request, or an
 * error string (with the id when there was a usable one, so the daemon can answer).
 * Error strings never quote the input: it may hold a secret.
 */
export function parseRequest(msg: Record<string, unknown>): Request | { id?: number; error: string } {
  const id = msg.id;
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) return { error: 'request needs an integer id' };
  const bad = (error: string) => ({ id, error });
  switch (msg.op) {
    case 'ping': case 'status': case 'stop':
      return { id, op: msg.op };
    case 'get': {
      const keys = keyList(msg.keys);
      if (typeof keys === 'string') return bad(keys);
      const program = programOf(msg.program);
      if (typeof program === 'string') return bad(program);
      if (msg.purpose !== undefined && msg.purpose !== 'export') return bad('purpose must be export');
      return { id, op: 'get', keys, ...(program && { program }), ...(msg.purpose === 'export' && { purpose: 'export' as const }) };
    }
    case 'lock': {
      if (msg.keys === undefined) return { id, op: 'lock' };
      const keys = keyList(msg.keys);
      return typeof keys === 'string' ? bad(keys) : { id, op: 'lock', keys };
    }
    case 'put': {
      const ttlMs = msg.ttlMs;
      if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) return bad('ttlMs must be a positive number');
      const idleMs = msg.idleMs;
      if (idleMs !== undefined && (typeof idleMs !== 'number' || !Number.isFinite(idleMs) || idleMs <= 0)) return bad('idleMs must be a positive number');
      if (!isObj(msg.keys) || Object.keys(msg.keys).length > MAX_KEYS) return bad('keys must be an object');
      const keys: Record<string, Unlocked> = {};
      for (const [name, v] of Object.entries(msg.keys)) {
        if (!KEY.test(name)) return bad('bad key name');
        const s = secretOf(v);
        if (typeof s === 'string') return bad(`${name}: ${s}`);
        keys[name] = s;
      }
      if (msg.execOnly !== undefined && msg.execOnly !== true) return bad('execOnly must be true');
      return { id, op: 'put', ttlMs, keys, ...(idleMs !== undefined && { idleMs }), ...(msg.execOnly === true && { execOnly: true as const }) };
    }
    case 'backoff': {
      const r = msg.record;
      if (r !== undefined && r !== 'failure' && r !== 'success') return bad('record must be failure or success');
      return r === undefined ? { id, op: 'backoff' } : { id, op: 'backoff', record: r };
    }
    case 'export': case 'exec-env': case 'cli-get': case 'cli-view': {
      if (typeof msg.cwd !== 'string' || !msg.cwd.startsWith('/') || !goodText(msg.cwd)) return bad('cwd must be an absolute path');
      if (!isObj(msg.env) || Object.keys(msg.env).length > EXPORT_MAX_VARS) return bad('env must be an object');
      const env: Record<string, string> = Object.create(null) as Record<string, string>;
      for (const [name, val] of Object.entries(msg.env)) {
        if (!goodText(val) || !goodText(name) || name === '' || name.includes('=')) return bad('bad variable in env');
        env[name] = val;
      }
      if (msg.op === 'cli-view') return cliViewOf(msg, id, msg.cwd, env);
      if (msg.op === 'cli-get') {
        if (typeof msg.key !== 'string' || !KEY.test(msg.key)) return bad('bad key name');
        return { id, op: 'cli-get', cwd: msg.cwd, env, key: msg.key };
      }
      if (msg.op === 'exec-env') {
        const keys = msg.keys;
        if (!Array.isArray(keys) || keys.length > MAX_KEYS || !keys.every((k) => typeof k === 'string' && goodText(k) && k.length <= 512)) return bad('keys must be a list of strings');
        const program = programOf(msg.program);
        if (typeof program === 'string') return bad(program);
        const req = { id, op: 'exec-env' as const, cwd: msg.cwd, env, keys: keys as string[] };
        return program === undefined ? req : { ...req, program };
      }
      if (typeof msg.shell !== 'string' || !['bash', 'zsh', 'fish', 'json'].includes(msg.shell)) return bad('shell must be bash, zsh, fish or json');
      return { id, op: 'export', shell: msg.shell, cwd: msg.cwd, env };
    }
    default:
      return bad('unknown op');
  }
}

/** The rest of a cli-view request, once its cwd and env passed. */
function cliViewOf(msg: Record<string, unknown>, id: number, cwd: string, env: Record<string, string>): CliViewRequest | { id: number; error: string } {
  const bad = (error: string) => ({ id, error });
  if (msg.view !== 'status' && msg.view !== 'list') return bad('view must be status or list');
  if (typeof msg.json !== 'boolean' || typeof msg.names !== 'boolean' || typeof msg.tty !== 'boolean') return bad('json, names and tty must be booleans');
  if (typeof msg.verified !== 'string' || !(VERIFIED_BY as readonly string[]).includes(msg.verified)) return bad('verified must say how the client checked the daemon');
  if (typeof msg.socket !== 'string' || !msg.socket.startsWith('/') || !goodText(msg.socket) || msg.socket.length > 4096) return bad('socket must be an absolute path');
  const s = msg.session;
  if (s !== null && (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 0)) return bad('session must be a number or null');
  return { id, op: 'cli-view', view: msg.view, json: msg.json, names: msg.names, cwd, env, verified: msg.verified as Verified, socket: msg.socket, session: s, tty: msg.tty };
}
