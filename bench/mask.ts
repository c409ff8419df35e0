/**
 * `npm run bench -- --mask [--mb N]`: throughput of `exec --mask` (native/mask.c)
 * against `cat`, on a stream of N MB (default 100) of text lines with 20 keys'
 * values sprinkled in. Each side is one copier behind one pipe, so the ratio is the
 * masker's cost alone:
 *   cat:  cat FILE | cat > /dev/null
 *   mask: keyrack-fast --masked -- cat FILE > /dev/null   (20 values on fd 3)
 * Runs alternate (mask, cat, mask, …) so machine load falls on both alike; the
 * median of each is reported. Goal: mask ≥ 0.5× cat.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../test/helpers.ts';

const FAST = join(ROOT, 'native', 'build', 'Release', 'keyrack-fast');
const mbArg = process.argv.indexOf('--mb');
const MB = mbArg > 0 ? Number(process.argv[mbArg + 1]) : 100;
const RUNS = 5;

let seed = 0x14;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const word = (n: number) => Array.from({ length: n }, () => ALNUM[Math.floor(rand() * ALNUM.length)]).join('');
const values = Array.from({ length: 20 }, (_, i) => [`BENCH_${i}`, word(16 + (i % 5) * 8)] as const);

/** N MB of log-like lines; about one line in 50 holds a value. */
function makeStream(file: string): number {
  const fd = openSync(file, 'w');
  const lines: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const v = rand() < 0.02 ? ` token=${values[Math.floor(rand() * values.length)]![1]}` : '';
    lines.push(`2026-12-02T00:00:${String(i % 60).padStart(2, '0')}Z info request ${word(8)} took ${Math.floor(rand() * 900)}ms path=/api/${word(6)}${v}\n`);
  }
  const block = Buffer.from(lines.join(''));
  let written = 0;
  while (written < MB * 1024 * 1024) written += writeSync(fd, block);
  closeSync(fd);
  return written;
}

function timed(argv: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - t0) / 1e6) : reject(new Error(`${argv.join(' ')}: exit ${code}`))));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = mkdtempSync(join(tmpdir(), 'kr-mask-bench-'));
try {
  const file = join(dir, 'stream');
  const bytes = makeStream(file);
  const vars = Buffer.concat(values.flatMap(([n, v]) => [Buffer.from(`${n}\0${v}\0`)]));
  const cat = ['sh', '-c', `cat '${file}' | cat > /dev/null`];
  const maskDirect = [FAST, '--masked', '--', 'cat', file];
  const t = { cat: [] as number[], mask: [] as number[] };
  await timed(cat); // warm the page cache
  for (let i = 0; i < RUNS; i++) {
    t.mask.push(await timedMask(maskDirect, vars));
    t.cat.push(await timed(cat));
  }
  const mbps = (ms: number) => bytes / 1024 / 1024 / (ms / 1000);
  const c = mbps(median(t.cat));
  const m = mbps(median(t.mask));
  console.log(`stream: ${(bytes / 1024 / 1024).toFixed(0)} MB, 20 keys, ${RUNS} alternating runs each (median)`);
  console.log(`cat | cat:            ${c.toFixed(0)} MB/s  (runs ms: ${t.cat.map((x) => x.toFixed(0)).join(' ')})`);
  console.log(`exec --mask (cat):    ${m.toFixed(0)} MB/s  (runs ms: ${t.mask.map((x) => x.toFixed(0)).join(' ')})`);
  console.log(`ratio mask / cat:     ${(m / c).toFixed(2)}×  (goal ≥ 0.5×)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** keyrack-fast --masked with its stdout on /dev/null (as cat's is above). */
function timedMask(argv: string[], fd3: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const out = openSync('/dev/null', 'w');
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', out, 'inherit', 'pipe'] });
    (child.stdio[3] as NodeJS.WritableStream).end(fd3);
    child.on('error', reject);
    child.on('exit', (code) => {
      closeSync(out);
      if (code === 0) resolve(Number(process.hrtime.bigint() - t0) / 1e6);
      else reject(new Error(`mask: exit ${code}`));
    });
  });
}
