/**
 * Crash safety and concurrency of the stores, with the built CLI in a sandbox:
 * - `keyrack set` killed with SIGKILL at random moments (seeded) never leaves the
 *   registry or a vault unreadable, never loses a key set earlier, and never lets the
 *   registry name a key whose value is missing or torn;
 * - many `set`s (and an `import`) at once never lose a key (the flocks).
 * os.secure files are checked by decrypting them with the identity, opened once.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Decrypter } from 'age-encryption';
import { KEYRACK, keyrack, sandbox, type Sandbox } from '../helpers.ts';
import { files } from '../../src/paths.ts';
import { rng } from '../fuzz/fuzzer.ts';

const PASS = 'crash test passphrase';
const SEED = Number(process.env.KEYRACK_TEST_SEED ?? 20240607);
const ITERATIONS = 20; // per vault: 40 runs in all, most of them killed


type Vault = 'os.secure' | 'os.direct';

/** Runs `keyrack set` and SIGKILLs it after `killAfterMs` (never, when undefined). */
function setKey(sb: Sandbox, name: string, value: string, vault: Vault, killAfterMs?: number): Promise<{ code: number | null; killed: boolean; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    // --downgrade: moving a key into os.direct (plaintext) is asked for explicitly.
    const child = spawn(process.execPath, [KEYRACK, 'set', name, '--vault', vault, ...(vault === 'os.direct' ? ['--downgrade'] : [])], { env: sb.env, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.stdin.on('error', () => {});
    child.stdin.end(value);
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === null && code !== 0) reject(new Error(`set ${name} failed (${code}): ${stderr}`));
      else resolve({ code, killed: signal === 'SIGKILL', ms: Date.now() - started });
    });
  });
}

async function openIdentity(sb: Sandbox): Promise<Decrypter> {
  const d = new Decrypter();
  d.addPassphrase(PASS);
  const plain = await d.decrypt(readFileSync(files.identity(sb.env)), 'text');
  const id = plain.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1'));
  assert.ok(id);
  const out = new Decrypter();
  out.addIdentity(id);
  return out;
}

/** What is on disk now: the registry and every value, parsed strictly (throws on a torn file). */
async function readStores(sb: Sandbox, ids: Decrypter): Promise<{ registry: Record<string, { vault: string }>; values: Map<string, string> }> {
  const reg = JSON.parse(readFileSync(files.registry(sb.env), 'utf8')) as { version: number; keys: Record<string, { vault: string }> };
  assert.equal(reg.version, 1);
  const values = new Map<string, string>();
  let direct: { version: number; values: Record<string, string> } = { version: 1, values: {} };
  try {
    direct = JSON.parse(readFileSync(files.directVault(sb.env), 'utf8')) as typeof direct;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  assert.equal(direct.version, 1);
  for (const [k, v] of Object.entries(direct.values)) values.set(`os.direct:${k}`, v);
  const keysDir = join(files.secureDir(sb.env), 'keys');
  for (const f of existsSync(keysDir) ? readdirSync(keysDir) : []) {
    if (!f.endsWith('.age') || f.startsWith('.')) continue;
    // Every key file decrypts: none is torn.
    values.set(`os.secure:${f.slice(0, -4)}`, await ids.decrypt(readFileSync(join(keysDir, f)), 'text'));
  }
  return { registry: reg.keys, values };
}

const configDirOf = (sb: Sandbox) => join(files.registry(sb.env), '..');

describe('crash safety', () => {
  let sb: Sandbox;
  let ids: Decrypter;
  before(async () => {
    sb = sandbox();
    const r = await keyrack(['init'], { env: sb.env, input: `${PASS}\n` });
    assert.equal(r.code, 0, r.stderr);
    ids = await openIdentity(sb);
  });
  after(() => sb.cleanup());

  for (const vault of ['os.direct', 'os.secure'] as const) {
    test(`${vault}: set killed with SIGKILL at random moments loses nothing set before (seed ${SEED})`, async (t: TestContext) => {
      const random = rng(SEED + (vault === 'os.secure' ? 1 : 0));
      const prefix = vault === 'os.secure' ? 'S' : 'D';
      /** Keys whose set completed, with their value now. */
      const committed = new Map<string, string>();
      // Two sets run to the end, timed, to spread the kills over a whole run of the
      // command; most kills aim at its last part, where the files are written (Node's
      // startup and module loading take the first two thirds). The estimate follows
      // every run that completes, as the machine's load changes.
      const durations: number[] = [];
      for (const n of [0, 1]) {
        durations.push((await setKey(sb, `${prefix}_w${n}`, `w${n}`, vault)).ms);
        committed.set(`${prefix}_w${n}`, `w${n}`);
      }
      const typical = () => [...durations].sort((a, b) => a - b)[Math.floor(durations.length / 2)]!;
      let killed = 0;
      let landed = 0;
      let between = 0;

      for (let i = 1; i <= ITERATIONS; i++) {
        const overwrite = committed.size > 0 && random() < 0.3;
        const names = [...committed.keys()];
        const name = overwrite ? names[Math.floor(random() * names.length)]! : `${prefix}_${i}`;
        const value = `value ${i} of ${name} ${'x'.repeat(Math.floor(random() * 2000))}`;
        const t0 = typical();
        const delay = Math.floor(random() < 0.35 ? random() * t0 * 1.2 : t0 * (0.7 + 0.3 * random()));
        const res = await setKey(sb, name, value, vault, delay);
        const what = `iteration ${i} (seed ${SEED}): set ${name} killed after ${delay} ms`;

        const { registry, values } = await readStores(sb, ids);
        for (const [k, v] of committed) {
          if (k === name) continue;
          assert.equal(registry[k]?.vault, vault, `${what}: ${k} is still registered`);
          assert.equal(values.get(`${vault}:${k}`), v, `${what}: ${k} keeps its value`);
        }
        const now = values.get(`${vault}:${name}`);
        if (!res.killed) {
          durations.push(res.ms);
          committed.set(name, value);
          assert.equal(now, value, `${what}: completed, so stored`);
        } else {
          killed++;
          if (overwrite) {
            // Old or new, never torn, never gone.
            assert.ok(now === committed.get(name) || now === value, `${what}: old or new value`);
            assert.equal(registry[name]?.vault, vault);
            if (now === value) landed++;
            committed.set(name, now!);
          } else if (Object.hasOwn(registry, name)) {
            // The registry never names a key whose value is not there.
            assert.equal(now, value, `${what}: registered, so its value is stored`);
            landed++;
            committed.set(name, value);
          } else if (now === value) {
            between++; // killed after the vault write, before the registry's: an unnamed value, harmless
          }
        }
      }
      // After all that, the CLI still works on the same files.
      const list = await keyrack(['list', '--json'], { env: sb.env });
      assert.equal(list.code, 0, list.stderr);
      const listed = new Set((JSON.parse(list.stdout) as { keys: Array<{ name: string }> }).keys.map((k) => k.name));
      for (const k of committed.keys()) assert.ok(listed.has(k), k);
      const litter = [configDirOf(sb), join(files.secureDir(sb.env), 'keys'), join(files.secureDir(sb.env), '..')]
        .flatMap((d) => (existsSync(d) ? readdirSync(d) : [])).filter((f) => f.endsWith('.tmp')).length;
      t.diagnostic(`${vault}: ${litter} temp files left by killed writes so far (harmless; never read)`);
      t.diagnostic(`${vault}: ${ITERATIONS} runs (a whole one takes ~${typical()} ms), ${killed} killed: ${landed} after storing, ${between} between the vault and registry writes`);
    });
  }

  test('8 concurrent sets at a time (both vaults) and an import never lose a key', async () => {
    const expected = new Map<string, { vault: Vault; value: string }>();
    for (let round = 0; round < 3; round++) {
      const runs: Array<Promise<unknown>> = [];
      for (let j = 0; j < 8; j++) {
        const vault: Vault = j % 2 === 0 ? 'os.direct' : 'os.secure';
        const name = `C${round}_${j}`;
        const value = `concurrent ${round}/${j}`;
        expected.set(name, { vault, value });
        runs.push(setKey(sb, name, value, vault));
      }
      const envFile = join(sb.dir, `round${round}.env`);
      writeFileSync(envFile, `I${round}_A=a${round}\nI${round}_B=b${round}\n`);
      expected.set(`I${round}_A`, { vault: 'os.direct', value: `a${round}` });
      expected.set(`I${round}_B`, { vault: 'os.direct', value: `b${round}` });
      runs.push(keyrack(['import', envFile, '--vault', 'os.direct'], { env: sb.env }).then((r) => assert.equal(r.code, 0, r.stderr)));
      await Promise.all(runs);
    }
    const { registry, values } = await readStores(sb, ids);
    for (const [name, { vault, value }] of expected) {
      assert.equal(registry[name]?.vault, vault, `${name} registered`);
      assert.equal(values.get(`${vault}:${name}`), value, `${name} stored`);
    }
  });

  test('concurrent sets of one key moving between vaults leave exactly one, readable copy', async () => {
    for (let round = 0; round < 4; round++) {
      const written = new Set<string>();
      await Promise.all(Array.from({ length: 6 }, (_, j) => {
        const value = `moving ${round}/${j}`;
        written.add(value);
        return setKey(sb, 'MOVING', value, j % 2 === 0 ? 'os.direct' : 'os.secure');
      }));
      const { registry, values } = await readStores(sb, ids);
      const vault = registry.MOVING?.vault;
      assert.ok(vault === 'os.direct' || vault === 'os.secure', `round ${round}: registered`);
      const other = vault === 'os.direct' ? 'os.secure' : 'os.direct';
      assert.ok(written.has(values.get(`${vault}:MOVING`) ?? ''), `round ${round}: the registered vault (${vault}) holds a value written this round`);
      assert.equal(values.get(`${other}:MOVING`), undefined, `round ${round}: no stale copy left in ${other}`);
    }
  });
});
