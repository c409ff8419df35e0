/**
 * The fingerprint key as a long-lived daemon reads it (src/env/fingerprint.ts): kept
 * while its file is unchanged, and every replacement seen at once — in place with the
 * same size, by a rename over it, by its removal (a new key is made) — so that a
 * restored data dir is never fingerprinted with the key it replaced.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fingerprintKey, keyId } from '../../src/env/fingerprint.ts';
import { RACY_NS } from '../../src/filecache.ts';
import { files } from '../../src/paths.ts';

const dir = mkdtempSync(join(tmpdir(), 'kr-fpkey-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = { HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') };
const path = files.fingerprintKey(env);

test('a key older than a second is read once; replaced in place, renamed over or removed, the new one is used', async () => {
  mkdirSync(dirname(path), { recursive: true });
  const first = randomBytes(32);
  writeFileSync(path, first, { mode: 0o600 });
  await sleep(Number(RACY_NS / 1_000_000n) + 100);
  const a = fingerprintKey(env);
  assert.deepEqual(a, first);
  assert.equal(fingerprintKey(env), a, 'the second read is the kept key');

  const second = randomBytes(32);
  const ino = statSync(path).ino;
  writeFileSync(path, second);
  assert.equal(statSync(path).ino, ino, 'replaced in place, same size');
  const b = fingerprintKey(env);
  assert.deepEqual(b, second);
  assert.notEqual(keyId(b), keyId(a));

  const third = randomBytes(32);
  writeFileSync(`${path}.new`, third, { mode: 0o600 });
  renameSync(`${path}.new`, path);
  assert.deepEqual(fingerprintKey(env), third);

  unlinkSync(path);
  const made = fingerprintKey(env);
  assert.equal(made.length, 32);
  assert.notDeepEqual(made, third, 'a removed key is replaced by a new one');
});

test('a key of the wrong size is refused every time, never kept', () => {
  writeFileSync(path, 'short');
  assert.throws(() => fingerprintKey(env), /is not a 32-byte key/);
  assert.throws(() => fingerprintKey(env), /is not a 32-byte key/);
});
