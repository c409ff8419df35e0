/**
 * The daemon's parse cache (src/filecache.ts) against a real filesystem: a hit
 * parses nothing, and every change is seen — an in-place edit of the same size
 * within the same second, one whose mtime was set back (only ctime moves), a file
 * renamed over it, a removed file — while a file younger than the racy window is
 * never trusted to keep its identity.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FileCache } from '../../src/filecache.ts';

const dir = mkdtempSync(join(tmpdir(), 'kr-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const text = (b: Buffer) => b.toString('utf8');

test('a hit parses nothing; an in-place edit of the same size within the same second is seen', async () => {
  const f = join(dir, 'a');
  const c = new FileCache<string>(8, 0n); // no racy window: the identity alone must tell
  writeFileSync(f, 'one-1');
  assert.equal(c.read(f, text), 'one-1');
  assert.equal(c.read(f, text), 'one-1');
  assert.equal(c.parses, 1, 'the second read was a hit');
  const before = statSync(f, { bigint: true });
  await sleep(30); // past the timestamp tick, well within the second
  writeFileSync(f, 'one-2');
  const now = statSync(f, { bigint: true });
  assert.equal(now.size, before.size);
  assert.equal(now.ino, before.ino, 'edited in place');
  assert.equal(c.read(f, text), 'one-2');
  assert.equal(c.parses, 2);
});

test('an edit whose mtime is set back is seen by its ctime', async () => {
  const f = join(dir, 'b');
  const c = new FileCache<string>(8, 0n);
  writeFileSync(f, 'two-1');
  const st = statSync(f);
  assert.equal(c.read(f, text), 'two-1');
  await sleep(30);
  writeFileSync(f, 'two-2');
  utimesSync(f, st.atime, st.mtime); // same size, same mtime: only ctime tells
  assert.equal(c.read(f, text), 'two-2');
});

test('a file renamed over the cached one is seen, even with the same size and mtime', () => {
  const f = join(dir, 'c');
  const c = new FileCache<string>(8, 0n);
  writeFileSync(f, 'three-1');
  const st = statSync(f);
  assert.equal(c.read(f, text), 'three-1');
  const tmp = join(dir, 'c.tmp');
  writeFileSync(tmp, 'three-2');
  utimesSync(tmp, st.atime, st.mtime);
  renameSync(tmp, f);
  assert.equal(c.read(f, text), 'three-2');
  unlinkSync(f);
  assert.equal(c.read(f, text), undefined, 'gone is gone, not the cached value');
});

test('a file changed less than the racy window ago is parsed every time', () => {
  const f = join(dir, 'd');
  const c = new FileCache<string>(8, 3_600_000_000_000n); // an hour: every file here is young
  writeFileSync(f, 'four');
  c.read(f, text);
  c.read(f, text);
  assert.equal(c.parses, 2, 'not trusted: parsed again');
});

test('a parse error is thrown each time, never cached', () => {
  const f = join(dir, 'e');
  const c = new FileCache<unknown>(8, 0n);
  writeFileSync(f, '{bad');
  const parse = (b: Buffer): unknown => JSON.parse(text(b));
  assert.throws(() => c.read(f, parse));
  assert.throws(() => c.read(f, parse));
  assert.equal(c.parses, 0);
});
