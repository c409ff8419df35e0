/**
 * Team file costs, through the built CLI (node dist/keyrack.mjs), with 10
 * recipients × 200 keys: `team set` (encrypts one value to 10 recipients, rewrites
 * a ~300 KB file), `team rekey` (one scrypt, 200 decryptions, 200 × 10 wraps), and
 * `unlock` of 200 team keys vs 1 (one scrypt either way; goal ≤ 1.5×). The machine
 * is shared: read the medians, and the ratio of each back-to-back pair.
 *
 *   scripts/build-all.sh && node --import tsx bench/team.ts [runs]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { formatTeam, type Member } from '../src/team/file.ts';
import { sealTeam } from '../src/vaults/team.ts';

const runs = Number(process.argv[2] ?? 5);
const KEYS = 200;
const RECIPIENTS = 10;
const KEYRACK = fileURLToPath(new URL('../dist/keyrack.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kr-bench-team-'));
const home = join(dir, 'home');
const proj = join(dir, 'proj');
const env: NodeJS.ProcessEnv = {
  PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local/share'),
  XDG_STATE_HOME: join(home, '.local/state'), XDG_RUNTIME_DIR: join(dir, 'run'), PWD: proj,
};
const PASS = 'bench passphrase';

function kr(args: string[], input = ''): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [KEYRACK, ...args], { env, cwd: proj, input, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`keyrack ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const show = (xs: number[]) => `${median(xs).toFixed(0)} ms   (runs: ${xs.map((x) => x.toFixed(0)).join(', ')})`;

try {
  mkdirSync(home, { recursive: true });
  mkdirSync(join(dir, 'run'), { mode: 0o700 });
  mkdirSync(proj);
  const names = Array.from({ length: KEYS }, (_, i) => `KEY_${String(i).padStart(3, '0')}`);
  writeFileSync(join(proj, '.keyrack'), names.join('\n') + '\n');
  kr(['init'], `${PASS}\n`);
  kr(['allow']);
  kr(['team', 'init', '--label', 'me']);
  const me = spawnSync(process.execPath, [KEYRACK, 'whoami'], { env, encoding: 'utf8' }).stdout.trim();
  const members: Member[] = [{ label: 'me', recipient: me, line: 0 }];
  for (let i = 1; i < RECIPIENTS; i++) members.push({ label: `mate${i}`, recipient: await identityToRecipient(await generateX25519Identity()), line: 0 });
  // The 200 values written at once (as 200 `team set`s would leave them).
  const values = await sealTeam(new Map(names.map((n, i) => [n, `value-${i}-${'x'.repeat(40)}`])), members.map((m) => m.recipient));
  writeFileSync(join(proj, '.keyrack.team'), formatTeam({ members, values }));
  const size = statSync(join(proj, '.keyrack.team')).size;

  const set: number[] = [];
  const rekey: number[] = [];
  const one: number[] = [];
  const all: number[] = [];
  for (let r = 0; r < runs; r++) {
    set.push(kr(['team', 'set', names[r % KEYS]!], `new value ${r}\n`));
    rekey.push(kr(['team', 'rekey'], `${PASS}\n`));
    kr(['lock']);
    one.push(kr(['unlock', names[0]!], `${PASS}\n`));
    kr(['lock']);
    all.push(kr(['unlock'], `${PASS}\n`));
  }
  kr(['daemon', 'stop']);
  console.log(`team file: ${RECIPIENTS} recipients × ${KEYS} keys, ${(size / 1024).toFixed(0)} KiB; median of ${runs} runs, whole CLI runs`);
  console.log(`  team set (1 key)     : ${show(set)}`);
  console.log(`  team rekey (200 keys): ${show(rekey)}`);
  console.log(`  unlock   1 team key  : ${show(one)}`);
  console.log(`  unlock 200 team keys : ${show(all)}`);
  // Each pair ran back to back, so its ratio is the one a shared, loaded machine disturbs least.
  const pairs = all.map((x, i) => x / one[i]!);
  console.log(`  ratio 200/1: ${(median(all) / median(one)).toFixed(2)}x of the medians, ${median(pairs).toFixed(2)}x median of the pairs (${pairs.map((x) => x.toFixed(2)).join(', ')}); goal ≤ 1.5x`);
} finally {
  spawnSync(process.execPath, [KEYRACK, 'daemon', 'stop'], { env, stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}
