/**
 * `keyrack log`: the human form (aligned, local time, refusals marked, control
 * characters from a hostile cwd neutralised), --json (the stored lines, across
 * rotated files, oldest first), the filters, and --follow across a rotation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KEYRACK, keyrack, sandbox, type Sandbox } from '../helpers.ts';
import { AuditLog, type Caller } from '../../src/daemon/audit.ts';

const peer = (pid: number | null, session: number | null = 3): Caller => ({ pid, uid: 1000, session, proc: null });
const auditPath = (sb: Sandbox) => join(sb.env.XDG_STATE_HOME!, 'keyrack', 'audit.log');
/** A log whose records carry fixed times and (pid null) no /proc lookups. */
function writer(sb: Sandbox, maxBytes?: number): AuditLog {
  let t = Date.parse('2024-03-05T06:07:08Z');
  return new AuditLog(auditPath(sb), { maxBytes, now: () => new Date(t += 1000) });
}

test('no log yet: a note on stderr, exit 0', async () => {
  const sb = sandbox();
  try {
    const r = await keyrack(['log'], { env: sb.env });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /no audit records yet/);
  } finally {
    sb.cleanup();
  }
});

test('human form: aligned lines in local time, REFUSED marked, no escape sequence from the log gets through', async () => {
  const sb = sandbox({ TZ: 'UTC' });
  try {
    const a = writer(sb);
    a.record({ op: 'get', keys: ['GITHUB_TOKEN', 'NPM_TOKEN'], peer: peer(null) });
    a.record({ op: 'export', keys: ['A'], peer: peer(null, null) });
    a.refused(peer(null, 9), "peer audit session 9 is not the daemon's session 3");
    a.close();
    // A record as another daemon might have written it, with a hostile cwd.
    const { appendFileSync } = await import('node:fs');
    appendFileSync(auditPath(sb), JSON.stringify({ time: '2024-03-05T06:08:00.000Z', op: 'get', keys: ['B'], pid: 42, uid: 1000, session: 3, exe: '/usr/bin/node', cwd: '/tmp/\u001b]0;pwned\u0007x' }) + '\nnot json\n');

    const r = await keyrack(['log'], { env: sb.env });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0]!, /^2024-03-05 06:07:09  get      GITHUB_TOKEN,NPM_TOKEN  pid -\s+session 3  \?\s+\?$/);
    assert.match(lines[1]!, /^2024-03-05 06:07:10  export   A\s+pid -\s+session -  /);
    assert.match(lines[2]!, /^2024-03-05 06:07:11  REFUSED  uid 1000\s+pid -\s+session 9 .*peer audit session 9 is not the daemon's session 3$/);
    assert.match(lines[3]!, /^2024-03-05 06:08:00  get      B\s+pid 42\s+session 3  \/usr\/bin\/node\s+\/tmp\/\\e\]0;pwned\\x07x$/);
    // Aligned: the pid column starts at the same offset on every line.
    assert.equal(new Set(lines.map((l) => l.indexOf(' pid '))).size, 1);
    assert.ok(!r.stdout.includes('\u001b'), 'no escape sequence, no colour off a TTY');
    assert.match(r.stderr, /1 line of the audit log could not be read/);
  } finally {
    sb.cleanup();
  }
});

test('--json prints the stored lines, oldest first across rotated files', async () => {
  const sb = sandbox();
  try {
    const a = writer(sb, 1500);
    for (let i = 0; i < 80; i++) a.record({ op: 'get', keys: [`K${i}`], peer: peer(null) });
    a.close();
    const r = await keyrack(['log', '--json'], { env: sb.env });
    assert.equal(r.code, 0, r.stderr);
    const keys = r.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { keys: string[] }).keys[0]!);
    const nums = keys.map((k) => Number(k.slice(1)));
    assert.equal(nums.at(-1), 79);
    assert.deepEqual(nums, [...nums].sort((x, y) => x - y), 'in order');
    assert.ok(nums.length < 80, 'the oldest fell off the last rotated file');
  } finally {
    sb.cleanup();
  }
});

test('--key, --since and --refused pick records; --json keeps them as stored; bad filters exit 2', async () => {
  const sb = sandbox({ TZ: 'UTC' });
  try {
    const a = new AuditLog(auditPath(sb), { now: () => new Date() });
    a.record({ op: 'get', keys: ['GITHUB_TOKEN', 'NPM_TOKEN'], peer: peer(null) });
    a.record({ op: 'exec', keys: ['NPM_TOKEN'], peer: peer(null) });
    a.refused(peer(null, 9), 'another session');
    a.close();
    // An old record, as a daemon wrote it two days ago.
    const { appendFileSync } = await import('node:fs');
    const old = { time: new Date(Date.now() - 2 * 86_400_000).toISOString(), op: 'get', keys: ['GITHUB_TOKEN'], pid: 42, uid: 1000, session: 3, exe: '/usr/bin/curl', cwd: '/old' };
    appendFileSync(auditPath(sb), JSON.stringify(old) + '\n');

    const ops = async (...args: string[]) => {
      const r = await keyrack(['log', '--json', ...args], { env: sb.env });
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trimEnd().split('\n').filter(Boolean).map((l) => { const x = JSON.parse(l) as { op: string; keys?: string[] }; return `${x.op}:${(x.keys ?? []).join(',')}`; });
    };
    assert.deepEqual(await ops(), ['get:GITHUB_TOKEN,NPM_TOKEN', 'exec:NPM_TOKEN', 'refused:', 'get:GITHUB_TOKEN']);
    assert.deepEqual(await ops('--key', 'GITHUB_TOKEN'), ['get:GITHUB_TOKEN,NPM_TOKEN', 'get:GITHUB_TOKEN']);
    assert.deepEqual(await ops('--key', 'GITHUB_TOKEN', '--since', '1d'), ['get:GITHUB_TOKEN,NPM_TOKEN']);
    assert.deepEqual(await ops('--key', 'GITHUB_TOKEN', '--key', 'NPM_TOKEN', '--since', '1h'), ['get:GITHUB_TOKEN,NPM_TOKEN', 'exec:NPM_TOKEN']);
    assert.deepEqual(await ops('--refused'), ['refused:']);
    assert.deepEqual(await ops('--key', 'NOPE'), []);
    const human = await keyrack(['log', '--key', 'NPM_TOKEN'], { env: sb.env });
    assert.equal(human.stdout.trimEnd().split('\n').length, 2);
    assert.match(human.stdout, /exec\s+NPM_TOKEN/);

    for (const [args, why] of [[['--since', '2 days'], /--since "2 days" is not a duration/], [['--since', '-1h'], /--since "-1h" is not a duration/], [['--key', 'bad key'], /bad key/]] as const) {
      const r = await keyrack(['log', ...args], { env: sb.env });
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, why);
    }
  } finally {
    sb.cleanup();
  }
});

test('--follow prints new records, also after the file rotates', async () => {
  const sb = sandbox();
  const a = writer(sb, 1200);
  a.record({ op: 'get', keys: ['FIRST'], peer: peer(null) });
  const child = spawn(process.execPath, [KEYRACK, 'log', '--follow', '--json'], { env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const waitFor = async (what: string) => {
    for (let i = 0; i < 500 && !out.includes(what); i++) await sleep(20);
    assert.ok(out.includes(what), `saw ${what} in: ${out.slice(-300)}`);
  };
  try {
    await waitFor('"FIRST"');
    // Enough records to rotate a few times while it follows.
    for (let i = 0; i < 30; i++) {
      a.record({ op: 'get', keys: [`N${i}`], peer: peer(null) });
      if (i % 5 === 0) await sleep(250);
    }
    await waitFor('"N29"');
    const seen = out.trimEnd().split('\n').map((l) => (JSON.parse(l) as { keys: string[] }).keys[0]);
    assert.deepEqual(seen, ['FIRST', ...Array.from({ length: 30 }, (_, i) => `N${i}`)], 'every record once, in order');
  } finally {
    a.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
    sb.cleanup();
  }
});
