/**
 * os.secure unlock cost: 1 key vs 50 keys with one passphrase. Opening the
 * identity (one scrypt, work factor 2^18) dominates; each key adds only an X25519
 * decryption, so 50 keys should cost far less than 2x one key.
 *
 *   node --import tsx bench/secure-unlock.ts [runs]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initSecure, seal, vault, writeSealed } from '../src/vaults/secure.ts';
import type { FetchContext, KeyRef } from '../src/vaults/vault.ts';

const runs = Number(process.argv[2] ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'kr-bench-'));
const home = join(dir, 'home');
const env: NodeJS.ProcessEnv = { HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local/share'), XDG_STATE_HOME: join(home, '.local/state') };
const PASS = 'bench passphrase';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function time(keys: KeyRef[]): Promise<number> {
  const ctx: FetchContext = { env, passphrase: async () => PASS, progress: () => {}, interactive: false };
  const t0 = performance.now();
  const got = await vault.fetch(keys, ctx);
  const ms = performance.now() - t0;
  for (const [name, v] of got) if (v instanceof Error) throw new Error(`${name}: ${v.message}`);
  return ms;
}

try {
  await initSecure(PASS, env);
  const keys: KeyRef[] = [];
  for (let i = 0; i < 50; i++) {
    const name = `KEY_${i}`;
    writeSealed(name, (await seal(new Map([[name, `value-${i}-${'x'.repeat(40)}`]]), env)).get(name)!, env);
    keys.push({ name, entry: { vault: 'os.secure' } });
  }
  const one: number[] = [];
  const fifty: number[] = [];
  for (let r = 0; r < runs; r++) {
    one.push(await time(keys.slice(0, 1)));
    fifty.push(await time(keys));
  }
  const m1 = median(one);
  const m50 = median(fifty);
  console.log(`os.secure fetch, median of ${runs} runs each`);
  console.log(`   1 key : ${m1.toFixed(0)} ms   (runs: ${one.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`  50 keys: ${m50.toFixed(0)} ms   (runs: ${fifty.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`  ratio 50/1: ${(m50 / m1).toFixed(2)}x   (per extra key: ${((m50 - m1) / 49).toFixed(1)} ms)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
