/**
 * One bad client never costs anyone else: malformed frames, an oversized frame, a
 * stalled connection and a few hundred concurrent connections against a real
 * daemon, which must keep serving with the same pid.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import { keyrack, sandbox, type Sandbox } from '../helpers.ts';
import { DaemonConnection } from '../../src/daemon/client.ts';

interface RawResult { frames: Array<Record<string, unknown>>; closed: boolean }

/**
 * A raw client in this process: waits for the hello, writes `data` verbatim, and
 * collects frames until `want` frames arrived or the daemon closed the connection.
 */
function raw(path: string, data: string | Buffer, want: number): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    const frames: Array<Record<string, unknown>> = [];
    let buf = '';
    let sent = false;
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`no close and only ${frames.length} frames`)); }, 10_000);
    const done = (closed: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve({ frames, closed });
    };
    s.setEncoding('utf8');
    s.on('error', () => { /* EPIPE/ECONNRESET after the daemon hung up: 'close' follows */ });
    s.on('close', () => done(true));
    s.on('data', (d: string) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) !== -1) {
        frames.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
        buf = buf.slice(nl + 1);
      }
      if (!sent && frames.length >= 1) {
        sent = true;
        s.write(data);
      }
      if (frames.length >= want) done(false);
    });
  });
}

const lines = (...frames: string[]) => frames.map((f) => f + '\n').join('');

let sb: Sandbox;
let pid: number;
let sock: string;

before(async () => {
  sb = sandbox();
  const r = await keyrack(['daemon', 'start'], { env: sb.env });
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse((await keyrack(['status', '--json'], { env: sb.env })).stdout) as { socket: string; daemon: { pid: number } };
  pid = s.daemon.pid;
  sock = s.socket;
  const put = JSON.stringify({ id: 1, op: 'put', ttlMs: 600_000, keys: { A: { value: 'alpha' }, B: { env: { X: '1', Y: 'two' } } } });
  const p = await raw(sock, lines(put), 2);
  assert.equal(p.frames[1]!.ok, true);
});

after(() => sb.cleanup());

/** The daemon still answers, from the same process, with the value intact. */
async function stillServing(): Promise<void> {
  const c = await DaemonConnection.open(sb.env);
  assert.ok(c);
  try {
    assert.equal(c.hello.pid, pid);
    const r = await c.request({ op: 'get', keys: ['A'] });
    assert.equal((r.keys!.A as { value: string }).value, 'alpha');
  } finally {
    c.close();
  }
}

test('malformed frames close only that connection', async () => {
  const bad = ['not json', '[1,2,3]', '"a string"', 'null', '{"op":"get","keys":["A"]}', '{"id":"7","op":"ping"}', '{"id":1,\u0000}', '\u00ff\u00fe{}'];
  for (const b of bad) {
    const r = await raw(sock, b + '\n', 99);
    assert.ok(r.closed, `closed after ${JSON.stringify(b)}`);
    assert.equal(r.frames.length, 1, 'only the hello came back');
    await stillServing();
  }
});

test('a bad request with an id gets an error answer and the connection stays', async () => {
  const r = await raw(sock, lines(
    '{"id":1,"op":"fly"}',
    '{"id":2,"op":"get","keys":"A"}',
    '{"id":3,"op":"put","ttlMs":1000,"keys":{"K":{"value":"a\\u0000b"}}}',
    '{"id":4,"op":"put","ttlMs":1000,"keys":{"K":{"value":"\\ud800"}}}',
    '{"id":5,"op":"put","ttlMs":-1,"keys":{}}',
    '{"id":6,"op":"get","keys":["A"]}',
  ), 7);
  assert.equal(r.frames.length, 7);
  for (const f of r.frames.slice(1, 6)) assert.equal(f.ok, false, JSON.stringify(f));
  assert.ok(!JSON.stringify(r.frames).includes('a\\u0000b'), 'errors never echo the input');
  assert.equal((r.frames[6] as { keys: { A: { value: string } } }).keys.A.value, 'alpha');
  await stillServing();
});

test('an oversized frame closes that connection', async () => {
  // No newline at all: the daemon must not buffer without bound.
  const r = await raw(sock, 'x'.repeat(1_100_000), 99);
  assert.ok(r.closed);
  assert.equal(r.frames.length, 1);
  // A complete but oversized frame, followed by a valid request that must not be answered.
  const r2 = await raw(sock, lines(`{"id":1,"op":"get","keys":["${'A'.repeat(1_100_000)}"]}`, '{"id":2,"op":"ping"}'), 99);
  assert.ok(r2.closed);
  assert.equal(r2.frames.length, 1);
  await stillServing();
});

test('a stalled connection does not hold up anyone else', async () => {
  // Half a frame, then silence; another client that never reads its answers.
  const stalled = createConnection(sock);
  await new Promise((r) => stalled.once('data', r));
  stalled.write('{"id":1,"op":"get","ke');
  const deaf = createConnection(sock);
  await new Promise((r) => deaf.once('data', r));
  deaf.pause();
  for (let i = 0; i < 200; i++) deaf.write(`{"id":${i},"op":"get","keys":["A","B"]}\n`);
  try {
    await stillServing();
  } finally {
    stalled.destroy();
    deaf.destroy();
  }
});

test('a few hundred concurrent connections are all served', async () => {
  const N = 300;
  const conns = await Promise.all(Array.from({ length: N }, () => DaemonConnection.open(sb.env)));
  try {
    const answers = await Promise.all(conns.map((c) => c!.request({ op: 'get', keys: ['A', 'B'] })));
    for (const a of answers) {
      assert.equal((a.keys!.A as { value: string }).value, 'alpha');
      assert.deepEqual((a.keys!.B as { env: Record<string, string> }).env, { X: '1', Y: 'two' });
    }
    assert.ok(conns.every((c) => c!.hello.pid === pid));
  } finally {
    for (const c of conns) c?.close();
  }
  await stillServing();
});
