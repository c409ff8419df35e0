/**
 * Which way of fetching many 1Password references is faster: `op read` per key
 * (bounded concurrency) or one `op inject` with a template on stdin?
 *
 * Uses the stand-in test/fakes/op, which sleeps like the real CLI: 0.5–2 s per
 * call (start-up, session check, API round trip). For `op inject` the stand-in
 * also charges a per-reference cost (PER_REF below), since the real CLI still
 * fetches each item inside its one call.
 *
 *   node --import tsx bench/op-fetch.ts [reps]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { injectAll, readEach, type OpKey, type OpRun, type Outcome } from '../src/vaults/op-cli.ts';

const OP = fileURLToPath(new URL('../test/fakes/op', import.meta.url));
const reps = Number(process.argv[2] ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'kr-bench-'));

function fixture(n: number, perRefMs: number): string {
  const secrets: Record<string, string> = {};
  for (let i = 0; i < n; i++) secrets[`op://bench/item${i}/password`] = `value-${i}`;
  const f = join(dir, `fx-${n}-${perRefMs}.json`);
  writeFileSync(f, JSON.stringify({ secrets, sleepMs: [500, 2000], injectPerRefMs: perRefMs }));
  return f;
}

const keys = (n: number): OpKey[] => Array.from({ length: n }, (_, i) => ({ name: `K${i}`, ref: `op://bench/item${i}/password` }));

type Strategy = { name: string; perRefMs: number; fn: (run: OpRun, k: OpKey[]) => Promise<Outcome> };
const strategies: Strategy[] = [
  { name: 'read, 4 at a time, first alone', perRefMs: 0, fn: (r, k) => readEach(r, k, { limit: 4, firstAlone: true }) },
  { name: 'read, 4 at a time', perRefMs: 0, fn: (r, k) => readEach(r, k, { limit: 4, firstAlone: false }) },
  { name: 'read, 8 at a time', perRefMs: 0, fn: (r, k) => readEach(r, k, { limit: 8, firstAlone: false }) },
  { name: 'inject (+0 ms/ref)', perRefMs: 0, fn: (r, k) => injectAll(r, k) },
  { name: 'inject (+100 ms/ref)', perRefMs: 100, fn: (r, k) => injectAll(r, k) },
];

const rows: string[] = [];
for (const n of [1, 5, 20]) {
  for (const s of strategies) {
    const env = { ...process.env, FAKE_OP_FIXTURE: fixture(n, s.perRefMs) };
    const run: OpRun = { op: OP, env, timeoutMs: 60_000 };
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      const out = await s.fn(run, keys(n));
      times.push(performance.now() - t0);
      for (const [name, v] of out) if (v instanceof Error) throw new Error(`${s.name}: ${name}: ${v.message}`);
      if (out.size !== n) throw new Error(`${s.name}: got ${out.size} of ${n}`);
    }
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    const row = `${String(n).padStart(3)} keys  ${s.name.padEnd(32)} mean ${(mean / 1000).toFixed(2)} s  (min ${(Math.min(...times) / 1000).toFixed(2)}, max ${(Math.max(...times) / 1000).toFixed(2)}, ${reps} runs)`;
    rows.push(row);
    console.log(row);
  }
}
rmSync(dir, { recursive: true, force: true });
