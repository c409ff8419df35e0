/**
 * Refused callers cannot starve the daemon (issue 10, item 5). The owner's GET —
 * connect + check + hello + GET of 10 keys + close, through the real Node client
 * (src/daemon/client.ts), as `keyrack get` does it — measured without a flood, during
 * a flood of refused connections from another login session (test/sockets/flood.mjs:
 * each flooder keeps CONCURRENCY connections in flight and reconnects the moment it
 * is refused), and after. As root: writing /proc/self/loginuid starts a new session,
 * one for the owner (who starts the daemon, so it serves that session only) and one
 * per flooder. Prints a table and writes bench/results/flood.json.
 *
 *   node --import tsx bench/flood.ts [--quick] [--nice] [--flooders N] [--concurrency C] [--requests R]
 *   (bench/run.sh --flood runs it after building)
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { KEYRACK, sandbox } from '../test/helpers.ts';
import { loadavg } from './report.ts';
import { fmtMs, pct } from './stats.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const quick = process.argv.includes('--quick');
const FLOODERS = arg('--flooders', 2);
const CONCURRENCY = arg('--concurrency', 1050); // 2 × 1050: the 2,100 connections
const REQUESTS = arg('--requests', quick ? 200 : 1000);
/** --nice: flooders at nice 19, to tell the daemon's queueing from CPU the flooders take from everyone. */
const NICE = process.argv.includes('--nice') ? ['nice', '-n', '19'] : [];
const OWNER = fileURLToPath(new URL('../test/sockets/owner.ts', import.meta.url));
const FLOOD = fileURLToPath(new URL('../test/sockets/flood.mjs', import.meta.url));
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const NEW_SESSION = 'echo 1000 > /proc/self/loginuid || exit 99; exec "$@"';

if (process.getuid?.() !== 0) {
  process.stderr.write('bench/flood.ts: run as root (it starts login sessions by writing /proc/self/loginuid)\n');
  process.exit(1);
}

interface Lines { next(): Promise<string> }
function lines(child: ChildProcessWithoutNullStreams): Lines {
  const it = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async next() {
      const r = await it.next();
      if (r.done) throw new Error(`child ${child.pid} ended early`);
      return r.value as string;
    },
  };
}

interface Sample { ms: number[]; failed: string[] }
interface FloodStats { connects: number; refused: number; served: number; errors: Record<string, number> }

/** A process's user + system CPU time so far (ms), from /proc/<pid>/stat. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
  return (ticks * 1000) / 100; // USER_HZ
}

const sb = sandbox();
const children: ChildProcessWithoutNullStreams[] = [];
const progress = (s: string) => process.stderr.write(`flood: ${s}\n`);
try {
  const owner = spawn('sh', ['-c', NEW_SESSION, 'sh', process.execPath, '--import', 'tsx', OWNER, KEYRACK], { env: sb.env });
  children.push(owner);
  owner.stderr.pipe(process.stderr);
  const ownerOut = lines(owner);
  const ready = JSON.parse(await ownerOut.next()) as { pid: number; socket: string };
  const get = async (n: number): Promise<Sample> => {
    owner.stdin.write(`get ${n}\n`);
    return JSON.parse(await ownerOut.next()) as Sample;
  };
  await get(50); // warm-up

  progress(`no flood: ${REQUESTS} GETs`);
  const before = await get(REQUESTS);

  progress(`flood: ${FLOODERS} × ${CONCURRENCY} connections from other login sessions`);
  const flooders = Array.from({ length: FLOODERS }, () => {
    const f = spawn('sh', ['-c', NEW_SESSION, 'sh', ...NICE, process.execPath, FLOOD, ready.socket, String(CONCURRENCY)], { env: sb.env });
    children.push(f);
    f.stderr.pipe(process.stderr);
    return { child: f, out: lines(f) };
  });
  for (const f of flooders) await f.out.next(); // "flooding"
  for (const f of flooders) await f.out.next(); // "recycling"
  const cpu0 = cpuMs(ready.pid);
  await new Promise((r) => setTimeout(r, 1000)); // every flooder at full speed
  const floodStart = performance.now();
  progress(`flood: ${REQUESTS} GETs`);
  const during = await get(REQUESTS);
  const floodSeconds = (performance.now() - floodStart) / 1000 + 1;
  for (const f of flooders) f.child.kill('SIGTERM');
  const floodCpuMs = cpuMs(ready.pid) - cpu0;
  const stats = await Promise.all(flooders.map(async (f) => JSON.parse(await f.out.next()) as FloodStats));

  progress(`after the flood: ${REQUESTS} GETs`);
  const after = await get(REQUESTS);
  const rss = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${ready.pid}/status`, 'utf8'))?.[1];
  owner.stdin.write('quit\n');
  await new Promise((r) => owner.once('close', r));

  const total = stats.reduce((a, s) => ({
    connects: a.connects + s.connects, refused: a.refused + s.refused, served: a.served + s.served,
    errors: Object.entries(s.errors).reduce((e, [k, v]) => ({ ...e, [k]: (e[k] ?? 0) + v }), a.errors),
  }), { connects: 0, refused: 0, served: 0, errors: {} as Record<string, number> });
  const auditBytes = (() => { try { return statSync(`${sb.env.XDG_STATE_HOME}/keyrack/audit.log`).size; } catch { return 0; } })();
  const somaxconn = readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim();

  const row = (label: string, s: Sample) =>
    `| ${label} | ${s.ms.length}/${s.ms.length + s.failed.length} | ${fmtMs(pct(s.ms, 50))} | ${fmtMs(pct(s.ms, 99))} | ${fmtMs(Math.max(...s.ms))} | ${s.failed.length ? [...new Set(s.failed)].slice(0, 2).join('; ') : ''} |`;
  const table = [
    `owner's GET (Node client, connect + hello + GET 10 keys + close), ${REQUESTS} per phase; flood: ${FLOODERS} × ${CONCURRENCY} refused connections in flight, another login session${NICE.length ? ', flooders at nice 19' : ''}`,
    '',
    '| phase | ok | p50 | p99 | max | failures |',
    '|---|---|---|---|---|---|',
    row('no flood', before),
    row('during the flood', during),
    row('after the flood', after),
    '',
    `flood: ${total.connects} connects in ${floodSeconds.toFixed(1)} s (${Math.round(total.connects / floodSeconds)}/s), ${total.refused} refusals read, ${total.served} served (must be 0), flooder errors ${JSON.stringify(total.errors)}`,
    `daemon CPU during the flood: ${(floodCpuMs / 1000).toFixed(2)} s of ${floodSeconds.toFixed(1)} s, ${((floodCpuMs * 1000) / Math.max(1, total.connects)).toFixed(0)} µs per connection (refusals and the owner's GETs)`,
    `daemon pid ${ready.pid}: RSS ${rss ? (Number(rss) / 1024).toFixed(1) : '?'} MiB after; audit.log ${auditBytes} bytes (refusals rate-limited); net.core.somaxconn ${somaxconn}; load ${loadavg().join(' ')}`,
  ].join('\n');
  process.stdout.write(table + '\n');
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(`${RESULTS}flood.json`, JSON.stringify({ at: new Date().toISOString(), flooders: FLOODERS, concurrency: CONCURRENCY, nice: NICE.length > 0, requests: REQUESTS, before, during, after, flood: total, floodSeconds, floodCpuMs, somaxconn: Number(somaxconn) }, null, 1));
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  sb.cleanup();
}
