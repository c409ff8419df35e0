/**
 * Each measurement of `npm run bench`, against the fixture. Shell-side timings come
 * from the shells' own clocks (see scripts.ts); the rest is timed here. Every
 * comparison alternates keyrack and its baseline run by run, so load from other
 * work on the machine hits both alike.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DaemonConnection } from '../src/daemon/client.ts';
import { socketPath } from '../src/paths.ts';
import { KEYRACK } from '../test/helpers.ts';
import type { Fixture } from './fixture.ts';
import { PASSPHRASE } from './fixture.ts';
import { cdScript, execScript, onceScript, promptScript, shellArgv, SHELLS, type Project, type ShellName } from './scripts.ts';
import { median } from './stats.ts';

export interface Run { lines: string[]; stderr: string; code: number | null; ms: number }

/** Runs argv to the end (killed after timeoutMs); stdout split into lines. */
export function runArgv(argv: string[], env: NodeJS.ProcessEnv, o: { input?: string; timeoutMs?: number; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), { env, cwd: o.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 180_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ lines: out.split('\n').filter(Boolean), stderr: err, code, ms: performance.now() - t0 });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(o.input ?? '');
  });
}

let scriptNo = 0;
function scriptFile(fx: Fixture, name: string, text: string): string {
  const f = join(fx.scriptsDir, `${++scriptNo}-${name}`);
  writeFileSync(f, text);
  return f;
}

/** Values of lines `TAG number` (µs), and every `fail …` line. */
function parse(run: Run, tags: string[]): { values: Record<string, number[]>; fails: string[] } {
  const values: Record<string, number[]> = Object.fromEntries(tags.map((t) => [t, []]));
  const fails: string[] = [];
  for (const l of run.lines) {
    const [tag, ...rest] = l.split(' ');
    if (tag === 'fail') fails.push(l);
    else if (tag !== undefined && tag in values) values[tag]!.push(Number(rest[rest.length - 1]));
  }
  if (run.code !== 0) fails.push(`exit ${run.code}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return { values, fails };
}

export interface Pair { keyrack: number[]; direnv: number[]; fails: string[] }

/** 1. Cost of one prompt with nothing changed (ms per prompt; one sample per shell process). */
export async function promptCost(fx: Fixture, rounds: number, n: { keyrack: number; direnv: number }, progress: (s: string) => void): Promise<Record<ShellName, Pair>> {
  const out = {} as Record<ShellName, Pair>;
  for (const sh of SHELLS) {
    progress(`prompt, nothing changed: ${sh}`);
    const files = {
      keyrack: scriptFile(fx, `prompt-keyrack.${sh}`, promptScript(sh, fx.hooks.keyrack[sh], fx.secure)),
      direnv: scriptFile(fx, `prompt-direnv.${sh}`, promptScript(sh, fx.hooks.direnv[sh], fx.direnv)),
    };
    const r: Pair = { keyrack: [], direnv: [], fails: [] };
    for (let i = 0; i < rounds; i++) {
      for (const tool of ['keyrack', 'direnv'] as const) {
        const run = await runArgv(shellArgv(sh, files[tool], [String(n[tool])]), fx.env);
        const { values, fails } = parse(run, ['loop', 'base']);
        r.fails.push(...fails.map((f) => `${tool}: ${f}`));
        const total = values.loop![0];
        if (total === undefined) continue;
        const base = values.base!.length ? median(values.base!) : 0;
        r[tool].push(Math.max(0, total - base) / n[tool] / 1000);
      }
    }
    out[sh] = r;
  }
  return out;
}

/** Processes (forks) and programs (execve) started per unchanged prompt, counted by strace. */
export async function processesPerPrompt(fx: Fixture, sh: ShellName, tool: 'keyrack' | 'direnv', n: number): Promise<{ forks: number; execs: number }> {
  const file = scriptFile(fx, `count-${tool}.${sh}`, promptScript(sh, fx.hooks[tool][sh], tool === 'keyrack' ? fx.secure : fx.direnv));
  const count = async (prompts: number) => {
    const log = join(fx.dir, `strace-${tool}-${sh}-${prompts}.log`);
    const run = await runArgv(['strace', '-f', '-qq', '-o', log, '-e', 'trace=execve,clone,clone3,fork,vfork', ...shellArgv(sh, file, [String(prompts)])], fx.env);
    if (run.code !== 0 || run.lines.some((l) => l.startsWith('fail'))) throw new Error(`strace run failed: ${run.lines.join(' ')} ${run.stderr}`);
    const lines = readFileSync(log, 'utf8').split('\n');
    rmSync(log);
    return {
      forks: lines.filter((l) => /\b(clone3?|v?fork)\(/.test(l) && !l.includes('CLONE_THREAD')).length,
      execs: lines.filter((l) => l.includes('execve') && / = 0$/.test(l)).length,
    };
  };
  const none = await count(0);
  const many = await count(n);
  return { forks: (many.forks - none.forks) / n, execs: (many.execs - none.execs) / n };
}

export interface CdSamples { enter: number[]; exit: number[]; fails: string[] }
export const CD_VARIANTS = ['keyrack os.secure', 'direnv', 'keyrack os.direct, no daemon', 'keyrack os.direct, daemon running'] as const;
export type CdVariant = typeof CD_VARIANTS[number];

/** 2 and 3. `cd` into a project + one prompt until its variables are set, and out again (ms). */
export async function cdCost(fx: Fixture, rounds: number, n: number, progress: (s: string) => void): Promise<Record<ShellName, Record<CdVariant, CdSamples>>> {
  const out = {} as Record<ShellName, Record<CdVariant, CdSamples>>;
  for (const sh of SHELLS) {
    progress(`cd in and out: ${sh}`);
    const variants: Array<{ id: CdVariant; hook: string; proj: Project; env: NodeJS.ProcessEnv }> = [
      { id: 'keyrack os.secure', hook: fx.hooks.keyrack[sh], proj: fx.secure, env: fx.env },
      { id: 'direnv', hook: fx.hooks.direnv[sh], proj: fx.direnv, env: fx.env },
      { id: 'keyrack os.direct, no daemon', hook: fx.hooks.keyrackNoDaemon[sh], proj: fx.direct, env: fx.envNoDaemon },
      { id: 'keyrack os.direct, daemon running', hook: fx.hooks.keyrack[sh], proj: fx.direct, env: fx.env },
    ];
    const res = {} as Record<CdVariant, CdSamples>;
    const files = variants.map((v) => scriptFile(fx, `cd-${v.id.replace(/\W+/g, '-')}.${sh}`, cdScript(sh, v.hook, v.proj, fx.outside)));
    for (const v of variants) res[v.id] = { enter: [], exit: [], fails: [] };
    for (let i = 0; i < rounds; i++) {
      for (const [j, v] of variants.entries()) {
        if (v.id === 'keyrack os.direct, no daemon') noDaemon(fx);
        const run = await runArgv(shellArgv(sh, files[j]!, [String(n)]), v.env);
        const { values, fails } = parse(run, ['enter', 'exit', 'base']);
        const base = values.base!.length ? median(values.base!) : 0;
        const r = res[v.id];
        r.fails.push(...fails);
        r.enter.push(...values.enter!.map((us) => Math.max(0, us - base) / 1000));
        r.exit.push(...values.exit!.map((us) => Math.max(0, us - base) / 1000));
      }
    }
    out[sh] = res;
  }
  return out;
}

/**
 * The "no daemon" rows measure the path a hook takes when none runs: a daemon
 * keyrack-fast started there (native/autostart.c) is stopped, and its once-a-minute
 * marker set fresh, so none starts during the run.
 */
function noDaemon(fx: Fixture): void {
  spawnSync(process.execPath, [KEYRACK, 'daemon', 'stop'], { env: fx.envNoDaemon, stdio: 'ignore', timeout: 10_000 });
  const marker = `${socketPath(fx.envNoDaemon, false)}.autostart`;
  writeFileSync(marker, '', { mode: 0o600 });
  const now = new Date();
  utimesSync(marker, now, now);
}

export type ExecSamples = Record<'true' | 'node' | 'exec', Record<'with' | 'without', number[]>> & { fails: string[]; ca: string };

/** 4. `keyrack exec -- true` vs `true` vs `node -e ''`, with and without NODE_EXTRA_CA_CERTS (ms). */
export async function execCost(fx: Fixture, rounds: number): Promise<ExecSamples> {
  const ca = process.env.NODE_EXTRA_CA_CERTS || '/etc/ssl/certs/ca-certificates.crt';
  const file = scriptFile(fx, 'exec.bash', execScript(fx.secure));
  const run = await runArgv(shellArgv('bash', file, [String(rounds), ca]), fx.env);
  const s: ExecSamples = {
    true: { with: [], without: [] }, node: { with: [], without: [] }, exec: { with: [], without: [] },
    fails: parse(run, []).fails, ca,
  };
  for (const l of run.lines) {
    const m = /^(true|node|exec) (with|without) (\d+)$/.exec(l);
    if (m) s[m[1] as 'true'][m[2] as 'with'].push(Number(m[3]) / 1000);
  }
  return s;
}

export interface Concurrent { n: number; ok: number; failed: number; refused: number; wallMs: number; problems: string[] }

/**
 * 6. n fresh bash shells at once, each entering the os.secure project with one
 * prompt of `hookFile` — so n `keyrack export bash` (whatever that hook runs) at
 * the same time. Each shell checks its 5 variables.
 */
export async function concurrentExports(fx: Fixture, n: number, hookFile: string): Promise<Concurrent> {
  const file = scriptFile(fx, 'once.bash', onceScript(hookFile, fx.secure));
  const expected = `keyrack: ${fx.secure.vars.map(([k]) => `+${k}`).join(' ')}`;
  const t0 = performance.now();
  const runs = await Promise.all(Array.from({ length: n }, () => runArgv(shellArgv('bash', file, []), fx.env)));
  const wallMs = performance.now() - t0;
  const problems = new Set<string>();
  let ok = 0;
  let refused = 0;
  for (const r of runs) {
    const good = r.code === 0 && r.lines.length === 1 && r.lines[0] === 'ok';
    if (good) ok++;
    const odd = r.stderr.split('\n').filter((l) => l && l !== expected);
    if (odd.some((l) => /refus|denied|locked|not running|ECONN|EAGAIN|timed out|did not answer/i.test(l))) refused++;
    for (const l of [...odd, ...(good ? [] : r.lines)]) problems.add(l.slice(0, 200));
  }
  return { n, ok, failed: n - ok, refused, wallMs, problems: [...problems].slice(0, 8) };
}

/** 5. Daemon GET of 10 keys at the client socket: on one connection, and connecting each time (ms). */
export interface GetLatencies {
  oneConnection: number[];
  perConnection: number[];
  /** The same two, from bench/get-client.c: no client-side GC or timer jitter. */
  cOneConnection: number[];
  cPerConnection: number[];
}

/** Builds bench/get-client.c into the fixture's directory. */
function buildGetClient(fx: Fixture): string {
  const out = join(fx.dir, 'get-client');
  const src = fileURLToPath(new URL('./get-client.c', import.meta.url));
  const r = spawnSync('cc', ['-O2', '-o', out, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc bench/get-client.c failed (is gcc installed?): ${r.error?.message ?? r.stderr}`);
  return out;
}

export async function daemonGet(fx: Fixture, n: number): Promise<GetLatencies> {
  const keys = Array.from({ length: 10 }, (_, i) => `G${i}`);
  const conn = await DaemonConnection.open(fx.env);
  if (!conn) throw new Error('the bench daemon is gone');
  await conn.request({ op: 'put', ttlMs: 3_600_000, keys: Object.fromEntries(keys.map((k) => [k, { value: `value-of-${k}-${'x'.repeat(32)}` }])) });
  const get = async (c: DaemonConnection) => {
    const r = await c.request({ op: 'get', keys });
    if (Object.keys(r.keys ?? {}).length !== keys.length) throw new Error('daemon GET: keys missing');
  };
  for (let i = 0; i < 50; i++) await get(conn);
  const oneConnection: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await get(conn);
    oneConnection.push(performance.now() - t0);
  }
  conn.close();
  const perConnection: number[] = [];
  for (let i = 0; i < n + 20; i++) {
    const t0 = performance.now();
    const c = await DaemonConnection.open(fx.env);
    if (!c) throw new Error('the bench daemon is gone');
    await get(c);
    c.close();
    if (i >= 20) perConnection.push(performance.now() - t0);
  }
  const client = buildGetClient(fx);
  const viaC = async (mode: 'one' | 'each') => {
    const r = await runArgv([client, socketPath(fx.env), mode, String(n), ...keys], fx.env);
    if (r.code !== 0) throw new Error(`get-client ${mode}: ${r.stderr.trim()}`);
    return r.lines.map(Number);
  };
  return { oneConnection, perConnection, cOneConnection: await viaC('one'), cPerConnection: await viaC('each') };
}

/** 7. The real `keyrack unlock`, passphrase on stdin: 1 os.secure key vs 50, alternating (ms). */
export async function unlockCost(fx: Fixture, rounds: number): Promise<{ one: number[]; fifty: number[]; fails: string[] }> {
  const r = { one: [] as number[], fifty: [] as number[], fails: [] as string[] };
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 ? (['fifty', 'one'] as const) : (['one', 'fifty'] as const);
    for (const which of order) {
      const keys = which === 'one' ? fx.unlockKeys.slice(0, 1) : fx.unlockKeys;
      // unlock leaves held keys as they are: dropped first (untimed), so each run fetches.
      const locked = await runArgv(['keyrack', 'lock', ...keys], fx.env, { cwd: fx.outside });
      if (locked.code !== 0) r.fails.push(`lock ${keys.length}: exit ${locked.code}: ${locked.stderr.trim()}`);
      const run = await runArgv(['keyrack', 'unlock', ...keys], fx.env, { input: `${PASSPHRASE}\n`, cwd: fx.outside });
      if (run.code === 0) r[which].push(run.ms);
      else r.fails.push(`unlock ${keys.length}: exit ${run.code}: ${run.stderr.trim()}`);
    }
  }
  return r;
}

/** 8. VmRSS of a process, in bytes. */
export function rssBytes(pid: number): number {
  return 1024 * Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}
