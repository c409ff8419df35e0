/**
 * The second pass's goals (issue 17) that grow with the user's data, each side by
 * side in one run: the hook's `cd` (keyrack-fast → the daemon's export) with
 * 10,000 registered keys vs 10, a manifest of 5; N concurrent exports (each timed,
 * all checked); the daemon's RSS after them; unlock of many os.secure keys vs a
 * tenth as many (per-key cost); and the read-only commands vs `node -e ''`.
 * Two sandboxes of their own, each with its own daemon.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEYRACK, ROOT, sandbox, type Sandbox } from '../test/helpers.ts';
import { DaemonConnection } from '../src/daemon/client.ts';
import { runArgv } from './phases.ts';
import { median, pct } from './stats.ts';

const FAST = join(ROOT, 'native', 'build', 'Release', 'keyrack-fast');
const PASS = 'scale passphrase';

interface World { sb: Sandbox; proj: string; env: NodeJS.ProcessEnv; daemonPid: number; names: string[] }

function must(args: string[], env: NodeJS.ProcessEnv, input = '', cwd?: string): void {
  const r = spawnSync(process.execPath, [KEYRACK, ...args], { env, input, cwd, encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`bench scale: keyrack ${args[0]} failed (${r.status ?? r.signal}): ${r.stderr.slice(-500)}`);
}

/** A sandbox with `n` os.secure keys (K0…), a project listing the first 5, those 5 unlocked. */
async function world(n: number): Promise<World> {
  const sb = sandbox();
  const proj = join(sb.dir, 'proj');
  mkdirSync(proj);
  must(['init'], sb.env, `${PASS}\n`);
  const names = Array.from({ length: n }, (_, i) => `K${i}`);
  must(['import', '-'], sb.env, names.map((k) => `${k}=value-of-${k}-${'v'.repeat(24)}\n`).join(''));
  writeFileSync(join(proj, '.keyrack'), names.slice(0, 5).join('\n') + '\n');
  must(['allow', proj], sb.env);
  must(['unlock', ...names.slice(0, 5)], sb.env, `${PASS}\n`);
  const c = await DaemonConnection.open(sb.env);
  if (!c) throw new Error('bench scale: no daemon after unlock');
  const daemonPid = c.hello.pid;
  c.close();
  return { sb, proj, env: { ...sb.env, PWD: proj }, daemonPid, names };
}

/** One hook-style export from the project (no shell state: the full answer). */
async function fastExport(w: World): Promise<{ ms: number; ok: boolean; why: string }> {
  const r = await runArgv([FAST, '/bin/false', KEYRACK, 'export', 'bash'], w.env, { cwd: w.proj });
  const set = r.lines.join('\n').match(/\bexport K\d+=/g) ?? [];
  return { ms: r.ms, ok: r.code === 0 && set.length === 5, why: r.code === 0 ? `${set.length} of 5 set` : `exit ${r.code}: ${r.stderr.trim().slice(-200)}` };
}

/** The read-only commands, each as the user types it after `keyrack`. */
const READ_ONLY = {
  get: ['get', 'K0'], status: ['status'], 'status --json': ['status', '--json'], list: ['list'], 'list --json': ['list', '--json'],
  'list --names': ['list', '--names'], lock: ['lock', 'K9'],
} as const;
type ReadOnly = keyof typeof READ_ONLY;

/** The launcher install.sh writes (bin/keyrack: keyrack-fast NODE SCRIPT "$@"), in the sandbox. */
function launcher(w: World): string {
  const bin = join(w.sb.dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const q = (p: string) => `'${p.replace(/'/g, `'\\''`)}'`;
  const path = join(bin, 'keyrack');
  writeFileSync(path, `#!/bin/sh\nexec ${q(FAST)} ${q(process.execPath)} ${q(KEYRACK)} "$@"\n`, { mode: 0o755 });
  return path;
}

export interface ScaleResult {
  cd: { small: number[]; large: number[]; keys: [number, number] };
  concurrent: { n: number; ok: number; ms: number[] };
  rssAfterBytes: number;
  unlock: { small: number[]; large: number[]; keys: [number, number] };
  readOnly: Record<ReadOnly | 'node', number[]>;
  fails: string[];
}

/** Runs every phase; `quick` shrinks the sample counts and the unlock sizes. */
export async function scaleBench(quick: boolean, progress: (s: string) => void): Promise<ScaleResult> {
  const big = 10_000;
  const unlockKeys: [number, number] = quick ? [200, 2000] : [1000, 10_000];
  progress(`scale: two sandboxes, 10 and ${big} registered keys`);
  const small = await world(10);
  const large = await world(big);
  const fails: string[] = [];
  try {
    const rounds = quick ? 20 : 100;
    const cd = { small: [] as number[], large: [] as number[], keys: [10, big] as [number, number] };
    progress(`scale: cd (export) with 10 vs ${big} registered keys, ${rounds} alternating rounds`);
    for (let i = 0; i < rounds + 3; i++) {
      for (const [w, into] of [[small, cd.small], [large, cd.large]] as const) {
        const r = await fastExport(w);
        if (!r.ok && fails.length < 10) fails.push(`export in the ${w.names.length}-key sandbox: ${r.why}`);
        if (i >= 3) into.push(r.ms);
      }
    }

    const n = 500;
    progress(`scale: ${n} concurrent exports`);
    const runs = await Promise.all(Array.from({ length: n }, () => fastExport(large)));
    const concurrent = { n, ok: runs.filter((r) => r.ok).length, ms: runs.map((r) => r.ms) };
    for (const r of new Set(runs.filter((x) => !x.ok).map((x) => x.why))) if (fails.length < 20) fails.push(`concurrent export: ${r}`);
    await new Promise((r) => setTimeout(r, 2000));
    const rssAfterBytes = 1024 * Number(/^VmRSS:\s+(\d+)/m.exec(spawnSync('cat', [`/proc/${large.daemonPid}/status`], { encoding: 'utf8' }).stdout)?.[1] ?? NaN);

    const ro = Object.fromEntries([...Object.keys(READ_ONLY), 'node'].map((k) => [k, [] as number[]])) as ScaleResult['readOnly'];
    // The installed `keyrack` as users run it: install.sh's launcher, then keyrack-fast.
    const kr = launcher(small);
    progress(`scale: ${Object.keys(READ_ONLY).join(', ')} vs node -e ''`);
    for (let i = 0; i < (quick ? 5 : 20); i++) {
      for (const [what, argv] of [...Object.entries(READ_ONLY).map(([k, a]) => [k, [kr, ...a]] as const), ['node', [process.execPath, '-e', '']] as const]) {
        const r = await runArgv([...argv], small.env, { cwd: small.proj });
        if (r.code !== 0) fails.push(`${what}: exit ${r.code}`);
        ro[what as ReadOnly | 'node'].push(r.ms);
      }
    }

    const unlock = { small: [] as number[], large: [] as number[], keys: unlockKeys };
    progress(`scale: unlock ${unlockKeys[0]} vs ${unlockKeys[1]} os.secure keys`);
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      for (const [count, into] of [[unlockKeys[0], unlock.small], [unlockKeys[1], unlock.large]] as const) {
        const r = await runArgv([process.execPath, KEYRACK, 'unlock', ...large.names.slice(0, count)], large.env, { input: `${PASS}\n`, cwd: large.sb.dir, timeoutMs: 600_000 });
        if (r.code !== 0) fails.push(`unlock ${count}: exit ${r.code}: ${r.stderr.trim().slice(-200)}`);
        else into.push(r.ms);
      }
    }
    return { cd, concurrent, rssAfterBytes, unlock, readOnly: ro, fails };
  } finally {
    small.sb.cleanup();
    large.sb.cleanup();
  }
}

/** The goals as the table states them. */
export function scaleSummary(r: ScaleResult): Array<{ what: string; keyrack: string; baseline: string; ratio: number; goal: string; met: boolean }> {
  const cdRatio = median(r.cd.large) / median(r.cd.small);
  const p99 = pct(r.concurrent.ms, 99);
  const perKey = (xs: number[], k: number) => median(xs) / k;
  const unlockRatio = perKey(r.unlock.large, r.unlock.keys[1]) / perKey(r.unlock.small, r.unlock.keys[0]);
  const node = median(r.readOnly.node);
  const rows = [
    { what: `cd (keyrack-fast export) with ${r.cd.keys[1]} registered keys vs ${r.cd.keys[0]}, manifest of 5`, keyrack: `${median(r.cd.large).toFixed(1)} ms`, baseline: `${median(r.cd.small).toFixed(1)} ms`, ratio: cdRatio, goal: '≤ 1.2×', met: cdRatio <= 1.2 },
    { what: `${r.concurrent.n} concurrent exports`, keyrack: `${r.concurrent.ok}/${r.concurrent.n} correct, p50 ${pct(r.concurrent.ms, 50).toFixed(0)} ms, p99 ${p99.toFixed(0)} ms`, baseline: '', ratio: NaN, goal: 'all correct, p99 ≤ 250 ms', met: r.concurrent.ok === r.concurrent.n && p99 <= 250 },
    { what: 'daemon RSS 2 s after the concurrent exports', keyrack: `${(r.rssAfterBytes / 1e6).toFixed(1)} MB`, baseline: '', ratio: NaN, goal: '≤ 64 MB', met: r.rssAfterBytes <= 64e6 },
    { what: `unlock ${r.unlock.keys[1]} os.secure keys vs ${r.unlock.keys[0]}, per key`, keyrack: `${median(r.unlock.large).toFixed(0)} ms`, baseline: `${median(r.unlock.small).toFixed(0)} ms`, ratio: unlockRatio, goal: 'works; ≤ 2× per key', met: r.unlock.large.length > 0 && unlockRatio <= 2 },
  ];
  for (const c of Object.keys(READ_ONLY) as ReadOnly[]) {
    const m = median(r.readOnly[c]);
    rows.push({ what: `keyrack ${c}, daemon running`, keyrack: `${m.toFixed(1)} ms`, baseline: `node -e '' ${node.toFixed(1)} ms`, ratio: m / node, goal: "≤ 0.2× node -e ''", met: m / node <= 0.2 });
  }
  return rows;
}
