/**
 * The cmd vault: any program that prints a secret (bw, gopass, gcloud, az,
 * doppler, a company script). The registry keeps its argv, written only by
 * `keyrack set K --vault cmd -- PROG ARG…` — a manifest names keys, never
 * commands — and `unlock` runs it: no shell, stdin from /dev/null, a timeout
 * (KEYRACK_CMD_TIMEOUT seconds, default 60). The value is its stdout minus one
 * trailing newline; a failure shows its stderr, never its stdout.
 */
import { statSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import { UserError } from '../errors.js';
import { files, uid, type Env } from '../paths.js';
import type { RegistryEntry } from '../registry.js';
import { stderrTail, valueOf } from './text.js';
import { findOnPath, isExecutableFile, pool, runTool, seconds, timeoutFrom } from './tool.js';
import type { Fetched, Vault } from './vault.js';

/** Seconds a cmd program may run (the contract's name; default 60). */
export const CMD_TIMEOUT_ENV = 'KEYRACK_CMD_TIMEOUT';
const DEFAULT_TIMEOUT_S = 60;
const PARALLEL = 4;
const MAX_ARGS = 256;
const MAX_ARG = 4096;

/** Why an argv cannot be stored or run, or null. */
export function argvProblem(argv: readonly string[] | undefined): string | null {
  if (argv === undefined || argv.length === 0) return 'a cmd key needs a command: keyrack set KEY --vault cmd -- PROG [ARG…]';
  if (argv.length > MAX_ARGS) return `the command has more than ${MAX_ARGS} arguments`;
  const prog = argv[0]!;
  if (prog === '') return 'the program name is empty';
   
  if (/[\u0000-\u001f\u007f]/.test(prog)) return 'the program name contains a control character';
  if (prog.includes('/') && !isAbsolute(prog)) return `the program ${JSON.stringify(prog)} must be a name on PATH or an absolute path`;
  for (const [i, a] of argv.entries()) {
    if (a.includes('\0')) return `argument ${i} contains a NUL byte`;
    if (a.length > MAX_ARG) return `argument ${i} is longer than ${MAX_ARG} characters`;
  }
  return null;
}

/** The argv for people: words with spaces or quotes JSON-quoted, cut at 80 characters. */
export function shownArgv(argv: readonly string[]): string {
  const s = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
  return s.length > 80 ? s.slice(0, 80) + '…' : s;
}

/** The program to run: an absolute path as given, else the first on PATH (as execvp). */
export function resolveProgram(prog: string, env: Env): string | null {
  if (isAbsolute(prog)) return isExecutableFile(prog) ? prog : null;
  return findOnPath(prog, env);
}

/**
 * The registry says which programs run: it must be ours alone. A registry (or its
 * directory) that others can write would let them choose what unlock executes.
 */
export function registryWritableByOthers(env: Env): string | null {
  const path = files.registry(env);
  for (const p of [path, dirname(path)]) {
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.uid !== uid()) return `${p} belongs to uid ${st.uid}, not you`;
    if ((st.mode & 0o022) !== 0) return `${p} is writable by others (mode ${(st.mode & 0o777).toString(8)}): chmod go-w ${p}`;
  }
  return null;
}

async function runOne(name: string, argv: string[], env: Env, timeoutMs: number): Promise<Fetched | Error> {
  const who = `cmd (${shownArgv(argv)})`;
  const fix = `fix it with keyrack set ${name} --vault cmd -- PROG [ARG…]`;
  const path = resolveProgram(argv[0]!, env);
  if (!path) return new UserError(`${who}: ${argv[0]} is not installed (${isAbsolute(argv[0]!) ? 'not an executable file' : 'not found on PATH'}); install it, or ${fix}`);
  const r = await runTool(path, argv.slice(1), { env, timeoutMs });
  const err = stderrTail(r.stderr);
  const tail = err ? `; its stderr: ${err}` : ' (it printed nothing on stderr)';
  if (r.spawnError) return new UserError(`${who}: could not run ${path}: ${r.spawnError.code ?? r.spawnError.message}`);
  if (r.timedOut) return new UserError(`${who}: timed out after ${seconds(timeoutMs)} (killed)${tail}; a slower program needs ${CMD_TIMEOUT_ENV}=SECONDS`);
  if (r.code === null) return new UserError(`${who}: was killed by a signal${tail}`);
  if (r.code !== 0) return new UserError(`${who}: exited with status ${r.code}${tail}`);
  if (r.overflow) return new UserError(`${who}: printed more than keyrack accepts as a value`);
  const v = valueOf(r.stdout, true);
  if ('refused' in v) return new UserError(`${who}: ${v.refused === 'the value is empty' ? 'printed nothing on stdout' : v.refused}`);
  return { value: v.value };
}

export const vault: Vault = {
  id: 'cmd',

  validate(entry: RegistryEntry): string | null {
    return argvProblem(entry.argv);
  },

  // Nothing of ours to delete: the program keeps the value; the registry, the argv.
  async fetch(keys, ctx) {
    const out = new Map<string, Fetched | Error>();
    const unsafe = registryWritableByOthers(ctx.env);
    const runs = new Map<string, { argv: string[]; names: string[] }>();
    for (const { name, entry } of keys) {
      const p = argvProblem(entry.argv);
      if (unsafe) out.set(name, new UserError(`cmd: refusing to run commands from the registry: ${unsafe}`));
      else if (p) out.set(name, new UserError(`cmd: ${p}; fix it with keyrack set ${name} --vault cmd -- PROG [ARG…]`));
      else {
        // Keys with the same command share one run.
        const id = JSON.stringify(entry.argv);
        const run = runs.get(id) ?? { argv: entry.argv!, names: [] };
        run.names.push(name);
        runs.set(id, run);
      }
    }
    const timeoutMs = timeoutFrom(ctx.env, CMD_TIMEOUT_ENV, DEFAULT_TIMEOUT_S);
    await pool([...runs.values()], PARALLEL, async ({ argv, names }) => {
      const r = await runOne(names[0]!, argv, ctx.env, timeoutMs);
      for (const n of names) out.set(n, r);
    });
    return out;
  },
};
