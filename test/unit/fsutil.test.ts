/**
 * keyrack's one temp-file scheme (fsutil.ts), as every writer uses it: a file is
 * created or replaced whole, nothing is left behind, and the next write of a file
 * sweeps the temp a killed writer left beside it (the fingerprint key and the
 * generation token had schemes of their own that nothing swept).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createFileAtomic, writeFileAtomic } from '../../src/fsutil.ts';
import { fingerprintKey } from '../../src/env/fingerprint.ts';
import { bumpGeneration } from '../../src/generation.ts';
import { files, generationPath } from '../../src/paths.ts';
import { tempEnv } from './fixture.ts';

/** A pid that has exited: what a writer killed mid-write leaves in its temp's name. */
const deadPid = (): number => spawnSync('true').pid!;

/** Plants the temp a killed writer of `path` would have left. */
function plantStale(path: string): string {
  mkdirSync(dirname(path), { recursive: true });
  const stale = join(dirname(path), `.${basename(path)}.${deadPid()}.0badc0de.tmp`);
  writeFileSync(stale, 'half');
  return stale;
}

const temps = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

test('createFileAtomic creates once (0600) and never replaces; writeFileAtomic replaces; neither leaves a temp', () => {
  const t = tempEnv();
  try {
    const p = join(t.dir, 'd', 'f');
    assert.equal(createFileAtomic(p, 'one'), true);
    assert.equal(statSync(p).mode & 0o777, 0o600);
    assert.equal(createFileAtomic(p, 'two'), false);
    assert.equal(readFileSync(p, 'utf8'), 'one');
    writeFileAtomic(p, 'three');
    assert.equal(readFileSync(p, 'utf8'), 'three');
    assert.deepEqual(temps(dirname(p)), []);
  } finally {
    t.cleanup();
  }
});

test('the fingerprint key: created by the one scheme, sweeping what a killed creator left', () => {
  const t = tempEnv();
  try {
    const path = files.fingerprintKey(t.env);
    const stale = plantStale(path);
    const key = fingerprintKey(t.env);
    assert.equal(key.length, 32);
    assert.equal(existsSync(stale), false, 'the dead writer\'s temp is swept');
    assert.deepEqual(temps(dirname(path)), []);
    assert.deepEqual(fingerprintKey(t.env), key, 'then read, never replaced');
  } finally {
    t.cleanup();
  }
});

test('the generation token: replaced whole, a killed writer\'s temp swept, and no runtime dir is made for it', () => {
  const t = tempEnv();
  try {
    const path = generationPath(t.env);
    const stale = plantStale(path);
    const token = bumpGeneration(t.env);
    assert.equal(readFileSync(path, 'utf8'), `${token}\n`);
    assert.equal(existsSync(stale), false);
    assert.deepEqual(temps(dirname(path)), []);
    rmSync(t.env.XDG_RUNTIME_DIR!, { recursive: true });
    bumpGeneration(t.env);
    assert.equal(existsSync(t.env.XDG_RUNTIME_DIR!), false);
  } finally {
    t.cleanup();
  }
});
