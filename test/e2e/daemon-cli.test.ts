/**
 * unlock / get / lock / status / daemon / doctor through the built CLI against a
 * real daemon: TTL expiry, lock, the manifest default, two racing unlocks that
 * must end with one daemon, passphrase back-off, and a scrubbed daemon env.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { keyrack, sandbox, type Sandbox } from '../helpers.ts';
import { DaemonConnection } from '../../src/daemon/client.ts';

let sb: Sandbox;

interface StatusJson {
  daemon: null | { pid: number; mode: string; check: string; dumpable: boolean | null };
  keys: Array<{ name: string; secondsLeft: number; refresh: boolean; vars?: string[]; idleMs?: number }>;
  manifest: null | { path: string; trust: string; entries: Array<{ env: string; key: string; optional: boolean; state: string }> };
}

async function status(cwd?: string): Promise<StatusJson> {
  const r = await keyrack(['status', '--json'], { env: sb.env, cwd });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as StatusJson;
}

const log = () => readFileSync(join(sb.env.XDG_STATE_HOME!, 'keyrack', 'daemon.log'), 'utf8');

before(async () => {
  sb = sandbox();
  const init = await keyrack(['init'], { env: sb.env, input: 'pw\n' });
  assert.equal(init.code, 0, init.stderr);
  for (const [k, v] of [['A', 'alpha'], ['B', 'beta with spaces'], ['C', 'gamma']]) {
    assert.equal((await keyrack(['set', k!], { env: sb.env, input: `${v}\n` })).code, 0);
  }
  assert.equal((await keyrack(['set', 'D', '--vault', 'os.direct'], { env: sb.env, input: 'delta\n' })).code, 0);
});

after(() => sb.cleanup());

test('two concurrent unlocks start exactly one daemon; get serves both keys', async () => {
  const [a, b] = await Promise.all([
    keyrack(['unlock', 'A'], { env: { ...sb.env, LEAKY_SECRET: 'do-not-inherit' }, input: 'pw\n' }),
    keyrack(['unlock', 'B'], { env: sb.env, input: 'pw\n' }),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.match(a.stderr, /unlocked 1 key for 8h/);
  assert.equal((log().match(/started:/g) ?? []).length, 1, 'one daemon started');
  const st = await status();
  assert.deepEqual(st.keys.map((k) => k.name), ['A', 'B']);
  assert.equal((await keyrack(['get', 'A'], { env: sb.env })).stdout, 'alpha\n');
  assert.equal((await keyrack(['get', 'B'], { env: sb.env })).stdout, 'beta with spaces\n');

  // The daemon's environment is the whitelist, not the caller's.
  const environ = readFileSync(`/proc/${st.daemon!.pid}/environ`, 'utf8');
  assert.ok(!environ.includes('LEAKY_SECRET'));
  assert.ok(environ.includes(`HOME=${sb.home}`));
  assert.equal(st.daemon!.dumpable, false, 'the daemon made itself non-dumpable');
  assert.equal(statSync(join(sb.env.XDG_RUNTIME_DIR!, 'keyrack.u0.sock')).mode & 0o777, 0o600);
  assert.equal(statSync(join(sb.env.XDG_STATE_HOME!, 'keyrack', 'daemon.log')).mode & 0o777, 0o600);
  assert.match(st.daemon!.check, /uid-only/);
});

test('lock drops named keys, then all; get exits 2 with the unlock hint', async () => {
  let r = await keyrack(['lock', 'A', 'C'], { env: sb.env });
  assert.equal(r.code, 0);
  assert.match(r.stderr, /already locked: C/);
  assert.match(r.stderr, /locked 1 key/);
  r = await keyrack(['get', 'A'], { env: sb.env });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /A is locked — run keyrack unlock A/);
  assert.equal((await keyrack(['get', 'B'], { env: sb.env })).stdout, 'beta with spaces\n');
  r = await keyrack(['lock'], { env: sb.env });
  assert.match(r.stderr, /locked 1 key/);
  assert.deepEqual((await status()).keys, []);
  assert.ok(!log().includes('alpha') && !log().includes('beta'), 'the log never holds a value');
});

test('values expire after --ttl and are gone, not hidden', async () => {
  const r = await keyrack(['unlock', 'A', 'C', '--ttl', '4s'], { env: sb.env, input: 'pw\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /unlocked 2 keys for 4s/);
  assert.equal((await keyrack(['get', 'C'], { env: sb.env })).stdout, 'gamma\n');
  const gen = readFileSync(join(sb.env.XDG_RUNTIME_DIR!, 'keyrack.u0.gen'), 'utf8');
  // Wait on the log, not the clock: the daemon's timers write it; a loaded machine may be late.
  for (let i = 0; i < 150 && !(/expired A\n/.test(log()) && /expired C\n/.test(log())); i++) await sleep(100);
  assert.equal((await keyrack(['get', 'C'], { env: sb.env })).code, 2);
  assert.deepEqual((await status()).keys, []);
  // Both timers fire within the same millisecond or two; their order is the scheduler's.
  assert.match(log(), /expired A\n/);
  assert.match(log(), /expired C\n/);
  assert.notEqual(readFileSync(join(sb.env.XDG_RUNTIME_DIR!, 'keyrack.u0.gen'), 'utf8'), gen, 'expiry bumps the generation');
});

test('--idle drops a key nobody fetched for that long, long before its --ttl', async () => {
  const r = await keyrack(['unlock', 'A', '--ttl', '1h', '--idle', '3s'], { env: sb.env, input: 'pw\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /unlocked 1 key for 1h, or until unused for 3s/);
  const held = (await status()).keys;
  assert.deepEqual(held.map((k) => [k.name, k.idleMs]), [['A', 3000]]);
  assert.ok(held[0]!.secondsLeft <= 3, 'the idle deadline is the one shown');
  assert.match((await keyrack(['status'], { env: sb.env })).stdout, /A\s+\ds left \(goes after 3s unused\)/);
  assert.match(log(), /put A for 1h, idle 3s/);
  for (let i = 0; i < 150 && !/expired A: unused for 3s\n/.test(log()); i++) await sleep(100);
  assert.match(log(), /expired A: unused for 3s\n/);
  assert.equal((await keyrack(['get', 'A'], { env: sb.env })).code, 2);
  assert.deepEqual((await status()).keys, []);
});

test('unlock reports bad input and unknown keys with exit 2, and still unlocks the rest', async () => {
  for (const ttl of ['8', '8x', '0s', '-1h', 'h', '400d', '1m1h']) {
    for (const flag of ['--ttl', '--idle']) {
      const r = await keyrack(['unlock', 'A', `${flag}=${ttl}`], { env: sb.env, input: 'pw\n' });
      assert.equal(r.code, 2, ttl);
      assert.equal(r.stderr, `keyrack: ${flag} ${JSON.stringify(ttl)} is not a duration: use e.g. 30s, 15m, 8h, 1h30m, 2d (at most 365d)\n`);
    }
  }
  const idle = await keyrack(['unlock', 'A', '--ttl', '1h', '--idle', '2h'], { env: sb.env, input: 'pw\n' });
  assert.equal(idle.code, 2);
  assert.match(idle.stderr, /--idle 2h is not shorter than the lifetime \(1h\)/);
  let r = await keyrack(['unlock', 'NOPE', 'A', 'D', '--ttl', '1h30m'], { env: sb.env, input: 'pw\n' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /NOPE is absent — run keyrack set NOPE/);
  assert.match(r.stderr, /unlocked 1 key for 1h30m/);
  assert.equal((await keyrack(['get', 'A'], { env: sb.env })).stdout, 'alpha\n');
  r = await keyrack(['unlock'], { env: sb.env, cwd: sb.home });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no \.keyrack manifest.*--all/);
});

test('unlock defaults to the manifest; status shows each entry and the trust', async () => {
  await keyrack(['lock'], { env: sb.env });
  const proj = join(sb.home, 'proj');
  mkdirSync(proj);
  writeFileSync(join(proj, '.keyrack'), 'ALPHA = A\nC\nD\nMISSING?\nE_OPT? = NOPE\n');
  let st = await status(proj);
  assert.equal(st.manifest!.trust, 'untrusted');
  assert.deepEqual(st.manifest!.entries.map((e) => [e.env, e.state]), [['ALPHA', 'locked'], ['C', 'locked'], ['D', 'ready'], ['MISSING', 'absent'], ['E_OPT', 'absent']]);
  const r = await keyrack(['unlock', '--ttl', '10m'], { env: sb.env, input: 'pw\n', cwd: proj });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /unlocked 2 keys for 10m/);
  st = await status(proj);
  assert.deepEqual(st.manifest!.entries.map((e) => e.state), ['ready', 'ready', 'ready', 'absent', 'absent']);
  assert.deepEqual(st.keys.map((k) => k.name), ['A', 'C']);
  assert.ok(st.keys.every((k) => k.secondsLeft > 500 && k.secondsLeft <= 600 && !k.refresh));
  const text = await keyrack(['status'], { env: sb.env, cwd: proj });
  assert.match(text.stdout, /untrusted — run keyrack allow/);
  assert.match(text.stdout, /MISSING\?\s+absent \(optional\)/);
  assert.match(text.stdout, /uid-only: no audit session id/);
});

test('a wrong passphrase exits 2, and repeated failures back off', async () => {
  await keyrack(['lock'], { env: sb.env });
  let r = await keyrack(['unlock', 'A'], { env: sb.env, input: 'wrong\n' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /wrong passphrase/);
  assert.doesNotMatch(r.stderr, /waiting/);
  r = await keyrack(['unlock', 'A'], { env: sb.env, input: 'wrong\n' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /waiting \d+s after wrong passphrases/);
  assert.equal((await keyrack(['get', 'A'], { env: sb.env })).code, 2);
  // A right one clears the count the daemon keeps for this session.
  r = await keyrack(['unlock', 'A'], { env: sb.env, input: 'pw\n' });
  assert.equal(r.code, 0, r.stderr);
  const c = await DaemonConnection.open(sb.env);
  try {
    assert.equal((await c!.request({ op: 'backoff' })).delayMs, 0);
  } finally {
    c!.close();
  }
});

test('daemon status / stop / unknown action; stop purges and removes the socket', async () => {
  assert.equal((await keyrack(['daemon', 'fly'], { env: sb.env })).code, 2);
  let r = await keyrack(['daemon', 'status'], { env: sb.env });
  assert.equal(r.code, 0);
  assert.match(r.stdout, /non-dumpable/);
  r = await keyrack(['daemon', 'start'], { env: sb.env });
  assert.match(r.stderr, /already running/);
  r = await keyrack(['daemon', 'run'], { env: sb.env });
  assert.equal(r.code, 0);
  assert.equal(r.stderr, 'keyrack: daemon already running\n');
  r = await keyrack(['daemon', 'stop'], { env: sb.env });
  assert.equal(r.code, 0);
  assert.match(r.stderr, /stopped .*memory purged/);
  assert.equal((await keyrack(['daemon', 'status'], { env: sb.env })).code, 2);
  assert.equal((await keyrack(['get', 'A'], { env: sb.env })).code, 2);
  assert.equal((await status()).daemon, null);
  assert.match(log(), /stopping: stop requested/);
});

test('doctor names each problem with its fix; exit 2 only when something is wrong', async () => {
  let r = await keyrack(['doctor'], { env: sb.env });
  assert.equal(r.code, 2);
  assert.match(r.stdout, /FAIL\s+shell hook not installed/);
  assert.match(r.stdout, /fix: add eval/);
  assert.match(r.stdout, /ok\s+native peer-credential module loads/);
  assert.match(r.stdout, /uid-only/);
  r = await keyrack(['doctor'], { env: { ...sb.env, KEYRACK_STATE: '' } });
  assert.equal(r.code, 0, r.stdout);
});
