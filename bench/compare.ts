/**
 * `npm run bench` (via bench/run.sh): keyrack side by side with direnv and Node,
 * every goal of the performance issue in one run, in a sandbox with its own daemon.
 * Prints one markdown table (medians, ratios, goal ✓/✗) and writes the same, with
 * the raw samples, to bench/results/latest.json (and the table alone to latest.md).
 *
 *   node --import tsx bench/compare.ts [--quick] [--scale]   (--scale: only bench/scale.ts's rows)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createFixture, type Fixture } from './fixture.ts';
import {
  cdCost, concurrentExports, daemonGet, execCost, processesPerPrompt, promptCost, rssBytes, unlockCost,
} from './phases.ts';
import { loadavg, machine, markdownTable, type Row } from './report.ts';
import { scaleBench, scaleSummary, type ScaleResult } from './scale.ts';
import { SHELLS } from './scripts.ts';
import { fmtMs, fmtRatio, median, pct, round3 } from './stats.ts';

const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
const cfg = quick
  ? { promptRounds: 3, promptN: { keyrack: 100, direnv: 5 }, countN: { keyrack: 20, direnv: 3 }, cdRounds: 2, cdN: 3, execRounds: 3, concurrent: 200, getN: 200, unlockRounds: 2 }
  : { promptRounds: 7, promptN: { keyrack: 500, direnv: 20 }, countN: { keyrack: 50, direnv: 10 }, cdRounds: 4, cdN: 8, execRounds: 15, concurrent: 200, getN: 1000, unlockRounds: 6 };
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

const started = performance.now();
const loads: Array<{ phase: string; load: [number, number, number] }> = [{ phase: 'start', load: loadavg() }];
const progress = (s: string) => process.stderr.write(`bench: [${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] ${s}\n`);
const phase = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
  progress(name);
  const r = await f();
  loads.push({ phase: name, load: loadavg() });
  return r;
};
const MB = (bytes: number) => bytes / 1e6;
const procCount = (n: number) => `${round3(n)} process${n === 1 ? '' : 'es'} started`;

let fx: Fixture | undefined;
const stop = (code: number) => {
  fx?.cleanup();
  process.exit(code);
};
process.on('SIGINT', () => stop(130));
process.on('SIGTERM', () => stop(143));
// Bounded: a hung step must not hold the machine (the full run takes a few minutes).
setTimeout(() => {
  process.stderr.write('bench: gave up after 15 minutes\n');
  stop(1);
}, 15 * 60_000).unref();

/** Rows 9–: bench/scale.ts (issue 17's goals that grow with the user's data). */
const scaleRows = (r: ScaleResult): Row[] => scaleSummary(r).map((x) => ({
  id: '9', what: x.what, keyrack: x.keyrack, baseline: x.baseline, ratio: Number.isNaN(x.ratio) ? '' : fmtRatio(x.ratio), goal: x.goal, met: x.met,
}));

if (process.argv.includes('--scale')) {
  const r = await scaleBench(quick, progress);
  process.stdout.write(`\n${markdownTable(scaleRows(r))}\n`);
  if (r.fails.length) process.stdout.write(`\nproblems seen:\n${r.fails.slice(0, 20).map((x) => `  - ${x}`).join('\n')}\n`);
  process.exit(0);
}

try {
  progress(`setting up the sandbox${quick ? ' (quick run: few samples)' : ''}`);
  fx = await createFixture();
  const f = fx;
  const hookText = readFileSync(f.hooks.keyrack.bash, 'utf8');
  const hookRuns = hookText.split('\n').find((l) => / export bash\b/.test(l) && !l.trim().startsWith('#'))?.trim() ?? '?';
  await new Promise((r) => setTimeout(r, 1000));
  const rssStart = rssBytes(f.daemonPid);

  const prompt = await phase('prompt with nothing changed', () => promptCost(f, cfg.promptRounds, cfg.promptN, progress));
  const procs = await phase('processes started per unchanged prompt (strace)', async () => {
    const out: Record<string, { forks: number; execs: number }> = {};
    for (const sh of SHELLS) for (const tool of ['keyrack', 'direnv'] as const) out[`${tool} ${sh}`] = await processesPerPrompt(f, sh, tool, cfg.countN[tool]);
    return out;
  });
  const cd = await phase('cd in and out', () => cdCost(f, cfg.cdRounds, cfg.cdN, progress));
  const exec = await phase(`keyrack exec -- true vs true vs node -e ''`, () => execCost(f, cfg.execRounds));
  // GET and unlock before the bursts of 200 processes, which leave the machine busy for a while.
  const get = await phase(`daemon GET x${cfg.getN}`, () => daemonGet(f, cfg.getN));
  const unlock = await phase('unlock 1 vs 50 os.secure keys', () => unlockCost(f, cfg.unlockRounds));
  const conc = await phase(`${cfg.concurrent} concurrent exports through the hook`, () => concurrentExports(f, cfg.concurrent, f.hooks.keyrack.bash));
  const concNode = await phase(`${cfg.concurrent} concurrent exports by the Node CLI`, () => concurrentExports(f, cfg.concurrent, f.nodeExportHook));
  await new Promise((r) => setTimeout(r, 2000));
  const rssBurst = rssBytes(f.daemonPid);
  await new Promise((r) => setTimeout(r, 8000));
  const rssEnd = rssBytes(f.daemonPid);
  const scale = await phase('scale: 10,000 keys, 500 concurrent exports, big unlocks, read-only commands', () => scaleBench(quick, progress));
  const m = machine();

  const rows: Row[] = [];
  for (const sh of SHELLS) {
    const p = prompt[sh];
    const k = median(p.keyrack);
    const d = median(p.direnv);
    const kp = procs[`keyrack ${sh}`]!;
    const dp = procs[`direnv ${sh}`]!;
    rows.push({
      id: '1', what: `prompt, nothing changed — ${sh}`,
      keyrack: `${fmtMs(k)}, ${procCount(kp.forks)}`, baseline: `direnv ${fmtMs(d)}, ${procCount(dp.forks)}`,
      ratio: fmtRatio(k / d), goal: '≤ 1 ms, 0 processes', met: k <= 1 && kp.forks === 0 && k < d && p.fails.length === 0,
    });
  }
  for (const sh of SHELLS) {
    const dv = cd[sh].direnv;
    for (const v of ['keyrack os.secure', 'keyrack os.direct, no daemon', 'keyrack os.direct, daemon running'] as const) {
      const s = cd[sh][v];
      const k = median(s.enter);
      const d = median(dv.enter);
      // Issue 17: every cd ≤ 0.3× direnv; only the very first one (no daemon yet) may take up to 1.0×.
      const limit = v.endsWith('no daemon') ? 1 : 0.3;
      rows.push({
        id: '2', what: `cd into project, 5 ${v.slice(8).replace(',', ' keys,')}${v.endsWith('secure') ? ' keys' : ''} — ${sh}`,
        keyrack: fmtMs(k), baseline: `direnv ${fmtMs(d)}`, ratio: fmtRatio(k / d), goal: `≤ ${limit.toFixed(1)}× direnv`,
        met: k / d <= limit && s.fails.length === 0 && dv.fails.length === 0,
      });
    }
  }
  for (const sh of SHELLS) {
    for (const v of ['keyrack os.secure', 'keyrack os.direct, no daemon'] as const) {
      const s = cd[sh][v];
      const out = median(s.exit);
      const into = median(s.enter);
      rows.push({
        id: '3', what: `cd out of project vs into it, ${v.slice(8)} — ${sh}`,
        keyrack: `out ${fmtMs(out)}`, baseline: `in ${fmtMs(into)}`, ratio: fmtRatio(out / into), goal: '≤ 1.0× cd in',
        met: out / into <= 1 && s.fails.length === 0,
      });
    }
    // Leaving against direnv's own leaving (it unloads without running the .envrc: a few ms).
    const dv = cd[sh].direnv;
    for (const v of ['keyrack os.secure', 'keyrack os.direct, daemon running'] as const) {
      const s = cd[sh][v];
      const out = median(s.exit);
      const d = median(dv.exit);
      rows.push({
        id: '3', what: `cd out of project, ${v.slice(8)} — ${sh}`,
        keyrack: `out ${fmtMs(out)}`, baseline: `direnv out ${fmtMs(d)}`, ratio: fmtRatio(out / d), goal: '≤ 0.3× direnv',
        met: out / d <= 0.3 && s.fails.length === 0 && dv.fails.length === 0,
      });
    }
  }
  for (const ca of ['with', 'without'] as const) {
    const e = median(exec.exec[ca]);
    const n = median(exec.node[ca]);
    const t = median(exec.true[ca]);
    rows.push({
      id: '4', what: `keyrack exec -- true, ${ca} NODE_EXTRA_CA_CERTS`,
      keyrack: fmtMs(e), baseline: `node -e '' ${fmtMs(n)}; true ${fmtMs(t)}`, ratio: fmtRatio(e / n), goal: `≤ 1.2× node -e ''`,
      met: e / n <= 1.2 && exec.fails.length === 0,
    });
  }
  for (const [what, xs] of [
    ['one connection, C client (as keyrack-fast)', get.cOneConnection], ['connect + hello + GET + close, C client', get.cPerConnection],
    ['one connection, Node client', get.oneConnection], ['connect + hello + GET + close, Node client', get.perConnection],
  ] as const) {
    const p50 = pct(xs, 50);
    const p99 = pct(xs, 99);
    rows.push({
      id: '5', what: `daemon GET 10 keys ×${xs.length}, ${what}`, keyrack: `p50 ${fmtMs(p50)}, p99 ${fmtMs(p99)}`, baseline: '', ratio: '',
      goal: 'p50 ≤ 0.5 ms, p99 ≤ 2 ms', met: p50 <= 0.5 && p99 <= 2,
    });
  }
  for (const [how, c] of [['through the hook', conc], ['by the Node CLI', concNode]] as const) {
    rows.push({
      id: '6', what: `${c.n} concurrent keyrack export bash, ${how} (fresh shells, one prompt each)`,
      keyrack: `${c.ok}/${c.n} correct, ${c.refused} refused, wall ${(c.wallMs / 1000).toFixed(1)} s`, baseline: '', ratio: '',
      goal: 'all correct, none refused', met: c.ok === c.n && c.refused === 0,
    });
  }
  {
    // Each run takes seconds, so load drifts between rounds: compare each 50-key
    // run with the 1-key run next to it, and take the median of those ratios.
    const u50 = median(unlock.fifty);
    const u1 = median(unlock.one);
    const paired = median(unlock.fifty.map((x, i) => x / unlock.one[i]!));
    rows.push({
      id: '7', what: 'keyrack unlock, 50 os.secure keys vs 1 (ratio: median of adjacent pairs)', keyrack: `50 keys ${fmtMs(u50)}`, baseline: `1 key ${fmtMs(u1)}`,
      ratio: fmtRatio(paired), goal: '≤ 1.3×', met: paired <= 1.3 && unlock.fails.length === 0,
    });
  }
  rows.push({
    id: '8', what: 'daemon RSS when idle (VmRSS)',
    keyrack: `${MB(rssStart).toFixed(1)} MB at start; ${MB(rssBurst).toFixed(1)} MB 2 s after the bursts of 200 exports; ${MB(rssEnd).toFixed(1)} MB 10 s after`,
    baseline: '', ratio: '', goal: '≤ 60 MB', met: Math.max(rssStart, rssBurst, rssEnd) <= 60e6,
  });

  rows.push(...scaleRows(scale));

  const end = loadavg();
  loads.push({ phase: 'end', load: end });
  const maxLoad = Math.max(...loads.map((l) => l.load[0]));
  const seconds = (performance.now() - started) / 1000;
  const fails = [
    ...SHELLS.flatMap((sh) => prompt[sh].fails.map((x) => `prompt ${sh}: ${x}`)),
    ...SHELLS.flatMap((sh) => Object.entries(cd[sh]).flatMap(([v, s]) => s.fails.map((x) => `cd ${sh} ${v}: ${x}`))),
    ...exec.fails.map((x) => `exec: ${x}`), ...conc.problems.map((x) => `concurrent (hook): ${x}`),
    ...concNode.problems.map((x) => `concurrent (Node CLI): ${x}`), ...unlock.fails.map((x) => `unlock: ${x}`),
    ...scale.fails.map((x) => `scale: ${x}`),
  ];

  const header = [
    `machine: ${m.nproc} × ${m.cpu}, Linux ${m.kernel}; node ${m.node}, direnv ${m.direnv}, bash ${m.bash}, zsh ${m.zsh}, fish ${m.fish}`,
    `load average (1 min): ${loads[0]!.load[0].toFixed(2)} at start, ${end[0].toFixed(2)} at end, up to ${maxLoad.toFixed(2)} between phases`,
    `NODE_EXTRA_CA_CERTS: ${m.nodeExtraCaCerts ?? '(unset)'} (the shells under test inherit it; row 4 runs with and without)`,
    `the keyrack hook runs: ${hookRuns}`,
    `medians over alternating runs (keyrack, direnv, keyrack, …); ${quick ? 'quick run, few samples' : 'full run'}; ${seconds.toFixed(0)} s`,
  ];
  const table = markdownTable(rows);
  process.stdout.write(`\n${header.join('\n')}\n\n${table}\n`);
  if (fails.length) process.stdout.write(`\nproblems seen:\n${fails.slice(0, 20).map((x) => `  - ${x}`).join('\n')}\n`);

  const r3 = (xs: number[]) => xs.map(round3);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(`${RESULTS}latest.json`, `${JSON.stringify({
    date: new Date().toISOString(), machine: m, load: loads, config: { quick, ...cfg }, hookRuns, seconds: Math.round(seconds),
    header, rows, problems: fails,
    samplesMs: {
      prompt: Object.fromEntries(SHELLS.map((sh) => [sh, { keyrack: r3(prompt[sh].keyrack), direnv: r3(prompt[sh].direnv) }])),
      processesPerPrompt: procs,
      cd: Object.fromEntries(SHELLS.map((sh) => [sh, Object.fromEntries(Object.entries(cd[sh]).map(([v, s]) => [v, { enter: r3(s.enter), exit: r3(s.exit) }]))])),
      exec: { true: exec.true, node: exec.node, exec: exec.exec, ca: exec.ca },
      daemonGet: {
        oneConnection: r3(get.oneConnection), perConnection: r3(get.perConnection),
        cOneConnection: r3(get.cOneConnection), cPerConnection: r3(get.cPerConnection),
      },
      concurrent: { hook: conc, nodeCli: concNode },
      unlock: { one: r3(unlock.one), fifty: r3(unlock.fifty) },
      rssBytes: { start: rssStart, afterBursts: rssBurst, end: rssEnd },
      scale: {
        cd: { keys: scale.cd.keys, small: r3(scale.cd.small), large: r3(scale.cd.large) },
        concurrent: {
          n: scale.concurrent.n,
          connections: { ok: scale.concurrent.conn.ok, ms: r3(scale.concurrent.conn.ms), daemonCpuMs: scale.concurrent.conn.daemonCpuMs },
          connectionsThirdBurst: { ok: scale.concurrent.connThird.ok, ms: r3(scale.concurrent.connThird.ms), daemonCpuMs: scale.concurrent.connThird.daemonCpuMs },
          processes: { ok: scale.concurrent.proc.ok, ms: r3(scale.concurrent.proc.ms) },
          trueProcesses: { ms: r3(scale.concurrent.floor.ms) },
        },
        rssAfterBytes: scale.rssAfterBytes,
        unlock: { keys: scale.unlock.keys, small: r3(scale.unlock.small), large: r3(scale.unlock.large) },
        readOnly: Object.fromEntries(Object.entries(scale.readOnly).map(([k, v]) => [k, r3(v)])),
      },
    },
  }, null, 1)}\n`);
  // The same table as a block ready for the README's Performance section.
  writeFileSync(`${RESULTS}latest.md`, `${header.map((h) => `- ${h}`).join('\n')}\n\n${table}\n`);
  process.stderr.write(`bench: wrote bench/results/latest.json and latest.md\n`);
} finally {
  fx?.cleanup();
}
