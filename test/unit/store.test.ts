/**
 * The daemon's store on its own: expiry deletes, the vault's expiry bounds the
 * TTL, background refresh replaces a value before its vault expiry but never
 * past the unlock deadline, and a failed refresh lets the value expire.
 * Plus the duration syntax shared by --ttl and KEYRACK_REFRESH_WINDOW, idle
 * expiry, and a seeded property run of random put/get/lock/clock steps against a
 * model of when each value must go.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Store } from '../../src/daemon/store.ts';
import { formatDuration, parseDuration } from '../../src/duration.ts';
import type { Fetched } from '../../src/vaults/vault.ts';
import fc from 'fast-check';

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await sleep(10);
  }
  assert.fail(`timed out waiting for ${what}`);
}

function store(refresh: (name: string) => Promise<Fetched>, windowMs = 200) {
  const events: string[] = [];
  let changes = 0;
  const s = new Store({
    refreshWindowMs: windowMs,
    onChange: () => { changes++; },
    canRefresh: (src) => src.vault === 'aws.sso',
    refresh: (name) => refresh(name),
    log: (l) => events.push(l),
  });
  return { s, events, changes: () => changes };
}

test('duration syntax', () => {
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('15m'), 900_000);
  assert.equal(parseDuration('8h'), 28_800_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('2d'), 172_800_000);
  for (const bad of ['', '0s', '8', 'h', '1m1h', '1.5h', '-1h', '1h 30m', '366d', 'ms']) assert.equal(parseDuration(bad), null, bad);
  assert.equal(formatDuration(5_400_000), '1h30m');
  assert.equal(formatDuration(172_800_000 + 1000), '2d1s');
  assert.equal(formatDuration(999), '0s');
});

test('expired values are deleted by their timer, bounded by the vault expiry', async () => {
  const { s, events, changes } = store(() => Promise.reject(new Error('unused')));
  const now = Date.now();
  s.put({ A: { value: 'a' }, B: { value: 'b', expiresAt: now + 100 } }, 1500);
  assert.equal(changes(), 1);
  assert.ok(s.get(['B']).B!.expiresAt <= now + 100);
  await until(() => s.size === 1, 'B to expire');
  assert.deepEqual(Object.keys(s.get(['A', 'B'])), ['A']);
  await until(() => s.size === 0, 'A to expire');
  assert.deepEqual(events, ['expired B', 'expired A']);
  assert.equal(changes(), 3);
});

test('refresh replaces a value before its vault expiry, never past the unlock deadline', async () => {
  let calls = 0;
  const { s, events } = store(async () => {
    calls++;
    return { env: { AWS_ACCESS_KEY_ID: `id${calls}` }, expiresAt: Date.now() + 300 };
  });
  s.put({ AWS: { env: { AWS_ACCESS_KEY_ID: 'id0' }, expiresAt: Date.now() + 300, source: { vault: 'aws.sso', profile: 'p' } } }, 1000);
  assert.equal(s.status()[0]!.refresh, true);
  const held = () => (s.get(['AWS']).AWS as { env: Record<string, string> } | undefined)?.env.AWS_ACCESS_KEY_ID;
  await until(() => held() === 'id1', 'the refreshed value');
  assert.ok(events.some((e) => e === 'refreshed AWS from aws.sso'));
  // The 1 s deadline still ends it.
  await until(() => s.size === 0, 'the deadline');
  // Attempts are spaced by at least 5 s, so a vault whose credentials live shorter
  // than the window cannot drive a busy loop.
  assert.equal(calls, 1);
});

test('a failed refresh is logged without the value and the key expires on time', async () => {
  const { s, events } = store(() => Promise.reject(new Error('token expired; run aws sso login')));
  s.put({ AWS: { value: 'topsecret', expiresAt: Date.now() + 250, source: { vault: 'aws.sso' } } }, 60_000);
  await until(() => s.size === 0, 'expiry');
  assert.ok(events.some((e) => /refresh of AWS from aws.sso failed: token expired/.test(e)));
  assert.ok(!events.join('\n').includes('topsecret'));
});

test('values of vaults that cannot refresh are not refreshed; lock purges', () => {
  const { s } = store(() => Promise.reject(new Error('must not be called')));
  s.put({ A: { value: 'a', expiresAt: Date.now() + 60_000, source: { vault: 'os.secure' } }, B: { value: 'b' } }, 120_000);
  assert.deepEqual(s.status().map((k) => k.refresh), [false, false]);
  assert.deepEqual(s.lock(['B', 'Z']), ['B']);
  assert.deepEqual(s.lock(), ['A']);
  assert.equal(s.size, 0);
});

test('idle expiry: each hand-out restarts the idle clock; the absolute expiry still bounds it', () => {
  const t0 = Date.now();
  let now = t0;
  const events: string[] = [];
  const s = new Store({
    now: () => now, onChange: () => {}, canRefresh: () => false,
    refresh: () => Promise.reject(new Error('unused')), log: (l) => events.push(l),
  });
  s.put({ A: { value: 'a' }, C: { value: 'c' } }, 10_000, 1000);
  s.put({ B: { value: 'b' } }, 10_000);
  assert.deepEqual(s.status().map((k) => [k.name, k.expiresAt, k.idleMs]), [['A', t0 + 1000, 1000], ['B', t0 + 10_000, undefined], ['C', t0 + 1000, 1000]]);
  now = t0 + 900;
  assert.equal(s.get(['A', 'C']).A!.expiresAt, t0 + 1900, 'a hand-out moves the idle deadline');
  now = t0 + 1800;
  assert.deepEqual(Object.keys(s.get(['A', 'B'])), ['A', 'B'], 'used 900 ms ago: still held');
  now = t0 + 1901;
  assert.deepEqual(Object.keys(s.get(['A', 'B', 'C'])), ['A', 'B'], 'C went unused for 1001 ms: gone');
  assert.ok(events.includes('expired C: unused for 1s'), events.join('\n'));
  assert.deepEqual(s.status().map((k) => k.name), ['A', 'B'], 'gone from the store, not hidden');
  for (now = t0 + 2000; now < t0 + 10_000; now += 500) assert.ok(s.get(['A']).A, `A used every 500 ms is held at +${now - t0}`);
  now = t0 + 10_000;
  assert.deepEqual(Object.keys(s.get(['A', 'B'])), [], 'the absolute expiry ends both, used or not');
  assert.ok(events.includes('expired A') && events.includes('expired B'));
});

test('idle expiry is enforced by the timer too, not only on the next read', async () => {
  const { s, events, changes } = store(() => Promise.reject(new Error('unused')));
  s.put({ A: { value: 'a' } }, 60_000, 1000);
  await until(() => s.size === 0, 'A to go idle');
  assert.deepEqual(events, ['expired A: unused for 1s']);
  assert.equal(changes(), 2, 'put and idle expiry each tell the shells');
});

test('property: get hands out exactly the values a model says are alive, never one past its time (seeded)', () => {
  const NAMES = ['A', 'B', 'C', 'D'];
  const step = fc.oneof(
    fc.record({ op: fc.constant('put' as const), names: fc.subarray(NAMES, { minLength: 1 }), ttl: fc.integer({ min: 1, max: 10_000 }), idle: fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined }), vault: fc.option(fc.integer({ min: -100, max: 12_000 }), { nil: undefined }) }),
    fc.record({ op: fc.constant('get' as const), names: fc.subarray(NAMES) }),
    fc.record({ op: fc.constant('lock' as const), names: fc.option(fc.subarray(NAMES), { nil: undefined }) }),
    fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 4000 }) }),
  );
  fc.assert(fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
    const t0 = 1_000_000_000_000;
    let now = t0;
    const s = new Store({ now: () => now, onChange: () => {}, canRefresh: () => false, refresh: () => Promise.reject(new Error('unused')), log: () => {} });
    /** The model: when each held value must go, and its idle rule. */
    const model = new Map<string, { value: string; until: number; idle?: number; used: number }>();
    const due = (m: { until: number; idle?: number; used: number }) => (m.idle === undefined ? m.until : Math.min(m.until, m.used + m.idle));
    let n = 0;
    for (const st of steps) {
      for (const [k, m] of model) if (due(m) <= now) model.delete(k);
      if (st.op === 'put') {
        const keys: Record<string, { value: string; expiresAt?: number }> = {};
        for (const k of st.names) {
          const value = `v${n++}`;
          keys[k] = st.vault === undefined ? { value } : { value, expiresAt: now + st.vault };
          model.set(k, { value, until: Math.min(now + st.ttl, st.vault === undefined ? Infinity : now + st.vault), idle: st.idle, used: now });
        }
        s.put(keys, st.ttl, st.idle);
        for (const [k, m] of model) if (due(m) <= now) model.delete(k); // born expired (a vault expiry in the past)
      } else if (st.op === 'get') {
        const got = s.get(st.names);
        const alive = st.names.filter((k) => model.has(k));
        assert.deepEqual(Object.keys(got).sort(), [...new Set(alive)].sort());
        for (const k of alive) {
          const m = model.get(k)!;
          m.used = now;
          const h = got[k]!;
          assert.equal((h as { value: string }).value, m.value);
          assert.equal(h.expiresAt, due(m), `${k}: the expiry handed out is the model's`);
          assert.ok(h.expiresAt > now, 'never a value past its time');
        }
      } else if (st.op === 'lock') {
        s.lock(st.names);
        for (const k of st.names ?? NAMES) model.delete(k);
      } else {
        now += st.ms;
      }
      assert.deepEqual(s.status().map((k) => k.name), [...model.keys()].filter((k) => due(model.get(k)!) > now).sort());
    }
    s.clear();
  }), { seed: 20261129, numRuns: 300 });
});
