/**
 * The audit log: a real daemon records every value it hands out (names, never
 * values) with the caller as the kernel reports it, and every refused connection;
 * the AuditLog class rotates at its cap, follows a rotation done by another daemon
 * sharing the file, and rate-limits refused records.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEYRACK, ROOT, keyrack, run, sandbox, type Sandbox, needsRoot } from '../helpers.ts';
import { AuditLog, callerOf, releaseCaller, type AuditRecord } from '../../src/daemon/audit.ts';

const PROBE = join(ROOT, 'test', 'sockets', 'probe.mjs');
const SECRET = 'sekrit-value-4711';

let sb: Sandbox;
let sock: string;
let daemonPid: number;
const auditPath = () => join(sb.env.XDG_STATE_HOME!, 'keyrack', 'audit.log');
const records = (): AuditRecord[] => {
  const p = auditPath();
  return existsSync(p) ? readFileSync(p, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord) : [];
};

before(async () => {
  sb = sandbox();
  // The registry names the keys (os.secure; never decrypted here: the daemon is fed directly).
  const conf = join(sb.env.XDG_CONFIG_HOME!, 'keyrack');
  mkdirSync(conf, { recursive: true, mode: 0o700 });
  writeFileSync(join(conf, 'registry.json'), JSON.stringify({ version: 1, keys: { A: { vault: 'os.secure' }, B: { vault: 'os.secure' } } }), { mode: 0o600 });
  assert.equal((await keyrack(['daemon', 'start'], { env: sb.env })).code, 0);
  const st = JSON.parse((await keyrack(['status', '--json'], { env: sb.env })).stdout) as { socket: string; daemon: { pid: number } };
  sock = st.socket;
  daemonPid = st.daemon.pid;
  const put = JSON.stringify({ id: 1, op: 'put', ttlMs: 600_000, keys: { A: { value: SECRET }, B: { env: { X: SECRET, Y: '2' } } } });
  const r = await run(process.execPath, [PROBE, sock, put], {});
  assert.match(r.stdout, /"ok":true/);
});

after(() => sb.cleanup());

test('a get is recorded with names, pid, uid, session, exe and cwd — never a value', async () => {
  const before = records().length;
  const cwd = realpathSync(sb.home);
  const r = await run(process.execPath, [KEYRACK, 'get', 'A'], { env: sb.env, cwd });
  assert.equal(r.stdout, `${SECRET}\n`);
  const recs = records().slice(before);
  assert.equal(recs.length, 1, JSON.stringify(recs));
  const g = recs[0]!;
  assert.equal(g.op, 'get');
  assert.deepEqual(g.keys, ['A']);
  assert.equal(g.uid, process.getuid!());
  assert.equal(g.session, null, 'this test runs without an audit session');
  assert.equal(g.exe, realpathSync(process.execPath));
  assert.equal(g.cwd, cwd);
  assert.ok(Number.isInteger(g.pid) && g.pid! > 0);
  assert.ok(!Number.isNaN(Date.parse(g.time)) && g.time.endsWith('Z'));

  // Nothing handed out, nothing recorded: an absent key, a status, a ping.
  assert.equal((await keyrack(['get', 'NOPE'], { env: sb.env })).code, 2);
  await run(process.execPath, [PROBE, sock, '{"id":1,"op":"status"}', '{"id":2,"op":"get","keys":["NOPE"]}'], {});
  assert.equal(records().length, before + 1);

  // An aws.sso-style key (several variables) is recorded by its key name.
  await run(process.execPath, [PROBE, sock, '{"id":1,"op":"get","keys":["B","A","NOPE"]}'], {});
  assert.deepEqual(records().at(-1)!.keys, ['B', 'A']);

  const st = statSync(auditPath());
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal(statSync(join(sb.env.XDG_STATE_HOME!, 'keyrack')).mode & 0o777, 0o700);
  assert.ok(!readFileSync(auditPath(), 'utf8').includes(SECRET), 'no value in the audit log');
});

test('a caller in another audit session is recorded with its session id', { skip: needsRoot('needs root to start an audit session') }, async () => {
  const r = await run('sh', ['-c', 'echo 1000 > /proc/self/loginuid || exit 99; cat /proc/self/sessionid; echo; exec "$@"', 'sh', process.execPath, PROBE, sock, '{"id":1,"op":"get","keys":["A"]}'], {});
  assert.equal(r.code, 0, r.stderr);
  const session = Number(r.stdout.split('\n')[0]);
  const last = records().at(-1)!;
  assert.equal(last.op, 'get');
  assert.equal(last.session, session, 'the kernel-reported session of the caller');
});

test('a refused connection is recorded with its uid and reason', { skip: needsRoot('needs root to run as uid 65534') }, async () => {
  chmodSync(sb.dir, 0o711);
  chmodSync(sb.env.XDG_RUNTIME_DIR!, 0o777);
  chmodSync(sock, 0o777);
  try {
    const out = (await run(process.execPath, [PROBE, sock, '{"id":1,"op":"get","keys":["A"]}'], { uid: 65534 })).stdout;
    assert.match(out, /"error":"refused"/);
    assert.ok(!out.includes(SECRET));
  } finally {
    chmodSync(sock, 0o600);
    chmodSync(sb.env.XDG_RUNTIME_DIR!, 0o700);
    chmodSync(sb.dir, 0o700);
  }
  const last = records().at(-1)!;
  assert.equal(last.op, 'refused');
  assert.equal(last.uid, 65534);
  assert.match(last.reason!, /peer uid 65534 is not the daemon's uid 0/);
  assert.equal(last.keys, undefined);
  assert.equal(last.exe, realpathSync(process.execPath));
  // The same daemon keeps serving.
  const again = await keyrack(['get', 'A'], { env: sb.env });
  assert.equal(again.stdout, `${SECRET}\n`);
  assert.equal(JSON.parse((await keyrack(['status', '--json'], { env: sb.env })).stdout).daemon.pid, daemonPid);
});

// ---- the AuditLog class itself ----

function tmp(): { dir: string; path: string; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'kr-audit-'));
  return { dir, path: join(dir, 'state', 'audit.log'), done: () => rmSync(dir, { recursive: true, force: true }) };
}
/** No /proc handle: these tests are about the file, not the caller. */
const me = () => ({ pid: process.pid, uid: process.getuid!(), session: null, proc: null });
const linesOf = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8').split('\n').filter(Boolean) : []);

test('AuditLog rotates at its cap and keeps three old files', () => {
  const t = tmp();
  try {
    const a = new AuditLog(t.path, { maxBytes: 2000, keep: 3 });
    for (let i = 0; i < 200; i++) a.record({ op: 'get', keys: [`K${i}`], peer: me() });
    a.close();
    const names = readdirSync(join(t.dir, 'state')).filter((n) => /^audit\.log(\.\d+)?$/.test(n)).sort();
    assert.deepEqual(names, ['audit.log', 'audit.log.1', 'audit.log.2', 'audit.log.3']);
    for (const n of ['audit.log', 'audit.log.1', 'audit.log.2', 'audit.log.3']) {
      const p = join(t.dir, 'state', n);
      assert.ok(statSync(p).size <= 2000, `${n} is within the cap`);
      assert.equal(statSync(p).mode & 0o777, 0o600);
    }
    // The newest records are in audit.log, in order, each line whole.
    const newest = linesOf(t.path).map((l) => (JSON.parse(l) as AuditRecord).keys![0]);
    assert.equal(newest.at(-1), 'K199');
    const all = ['audit.log.3', 'audit.log.2', 'audit.log.1', 'audit.log'].flatMap((n) => linesOf(join(t.dir, 'state', n)));
    const nums = all.map((l) => Number((JSON.parse(l) as AuditRecord).keys![0]!.slice(1)));
    assert.deepEqual(nums, Array.from({ length: nums.length }, (_, i) => 200 - nums.length + i), 'a contiguous tail, nothing lost inside it');
  } finally {
    t.done();
  }
});

test('two daemons sharing the file lose no record across rotations', () => {
  const t = tmp();
  try {
    // keep is large enough that nothing falls off the end: every record must survive.
    const a = new AuditLog(t.path, { maxBytes: 3000, keep: 50 });
    const b = new AuditLog(t.path, { maxBytes: 3000, keep: 50 });
    for (let i = 0; i < 300; i++) (i % 3 === 0 ? b : a).record({ op: 'get', keys: [`K${i}`], peer: me() });
    a.close();
    b.close();
    const files = readdirSync(join(t.dir, 'state')).filter((n) => /^audit\.log(\.\d+)?$/.test(n));
    const got = files.flatMap((n) => linesOf(join(t.dir, 'state', n))).map((l) => (JSON.parse(l) as AuditRecord).keys![0]);
    assert.equal(got.length, 300);
    assert.equal(new Set(got).size, 300);
    assert.ok(files.length > 5, 'it did rotate');
  } finally {
    t.done();
  }
});

test('refused records are rate-limited; what is held back is counted', () => {
  const t = tmp();
  try {
    const a = new AuditLog(t.path);
    for (let i = 0; i < 500; i++) a.refused(me(), 'peer audit session 7 is not the daemon\'s session 3');
    a.close();
    const recs = linesOf(t.path).map((l) => JSON.parse(l) as AuditRecord);
    const refused = recs.filter((r) => r.op === 'refused');
    const suppressed = recs.filter((r) => r.op === 'suppressed');
    assert.ok(refused.length >= 50 && refused.length < 100, `${refused.length} recorded one by one`);
    assert.equal(suppressed.length, 1);
    assert.equal(refused.length + suppressed[0]!.count!, 500);
  } finally {
    t.done();
  }
});

test('exe and cwd are read through the handle taken at connect: a caller that is gone has none', async () => {
  const t = tmp();
  const child = spawn('sleep', ['30'], { cwd: t.dir, stdio: 'ignore' });
  try {
    await new Promise((r) => child.once('spawn', r));
    const a = new AuditLog(t.path);
    const live = callerOf({ pid: child.pid!, uid: process.getuid!(), session: null });
    a.record({ op: 'get', keys: ['A'], peer: live });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // Its pid may now name another process; the handle still names the dead one.
    a.record({ op: 'get', keys: ['B'], peer: live });
    releaseCaller(live);
    assert.equal(live.proc, null);
    a.close();
    const [first, second] = linesOf(t.path).map((l) => JSON.parse(l) as AuditRecord);
    assert.equal(first!.exe, realpathSync(execFileSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).trim()));
    assert.equal(first!.cwd, realpathSync(t.dir));
    assert.equal(second!.pid, child.pid);
    assert.equal(second!.exe, null);
    assert.equal(second!.cwd, null);
  } finally {
    child.kill('SIGKILL');
    t.done();
  }
});
