/**
 * The generation file as the watchers that cannot read it see it: direnv's
 * watch_file and tcsh's gate compare its mtime in whole seconds, so every bump,
 * even several within one second, must move the mtime on by at least a second.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readFileSync } from 'node:fs';
import { bumpGeneration } from '../../src/generation.ts';
import { generationPath, runtimeDir } from '../../src/paths.ts';
import { tempEnv } from './fixture.ts';

const seconds = (path: string) => Math.floor(lstatSync(path).mtimeMs / 1000);

test('each bump gives the generation file a new token and a later mtime, in whole seconds', (t) => {
  const te = tempEnv();
  t.after(() => te.cleanup());
  const env = te.env;
  mkdirSync(runtimeDir(env, false), { recursive: true, mode: 0o700 });
  const path = generationPath(env);
  const seen: Array<{ token: string; mtime: number; ino: number }> = [];
  // Five bumps in a row take milliseconds: all within a second or two of wall time.
  for (let i = 0; i < 5; i++) {
    const token = bumpGeneration(env);
    assert.equal(readFileSync(path, 'utf8'), `${token}\n`);
    seen.push({ token, mtime: seconds(path), ino: lstatSync(path).ino });
  }
  for (let i = 1; i < seen.length; i++) {
    assert.notEqual(seen[i]!.token, seen[i - 1]!.token);
    assert.ok(seen[i]!.mtime > seen[i - 1]!.mtime, `bump ${i}: mtime ${seen[i]!.mtime} is not after ${seen[i - 1]!.mtime}`);
  }
  // Never behind the clock.
  assert.ok(seen[0]!.mtime >= Math.floor(Date.now() / 1000) - 5);
});
