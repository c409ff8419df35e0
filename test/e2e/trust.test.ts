import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, renameSync, readFileSync, statSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, keyrack } from '../helpers.ts';
import { trustOf } from '../../src/env/trust.ts';
import { readManifest } from '../../src/env/manifest.ts';
import { generationPath } from '../../src/paths.ts';

test('allow binds trust to path + content; edit, move and deny withdraw it', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const proj = join(sb.dir, 'proj');
  mkdirSync(join(proj, 'sub'), { recursive: true });
  const file = join(proj, '.keyrack');
  writeFileSync(file, 'A\nB? = b-key\n');
  const trust = () => trustOf(readManifest(file), sb.env);

  assert.equal(trust(), 'untrusted');
  const r = await keyrack(['allow'], { env: sb.env, cwd: join(proj, 'sub') });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /allowed .*proj\/\.keyrack \(2 keys: A B\?\)/);
  assert.equal(trust(), 'allowed');
  // Trust records hold paths, never a key's value; dirs 0700, files 0600.
  const allowDir = join(sb.env.XDG_DATA_HOME!, 'keyrack', 'allow');
  assert.equal(statSync(allowDir).mode & 0o777, 0o700);
  for (const f of readdirSync(allowDir)) assert.equal(statSync(join(allowDir, f)).mode & 0o777, 0o600);

  writeFileSync(file, 'A\nB? = b-key\nC\n');
  assert.equal(trust(), 'changed', 'an edit withdraws trust (changed since it was allowed)');
  writeFileSync(file, 'A\nB? = b-key\n');
  assert.equal(trust(), 'allowed', 'the same content at the same path is trusted again');

  // Allowing new content forgets the old content of the same path.
  writeFileSync(file, 'A\n');
  assert.equal((await keyrack(['allow', proj], { env: sb.env })).code, 0);
  writeFileSync(file, 'A\nB? = b-key\n');
  assert.equal(trust(), 'changed');
  writeFileSync(file, 'A\n');

  const moved = join(sb.dir, 'moved');
  renameSync(proj, moved);
  assert.equal(trustOf(readManifest(join(moved, '.keyrack')), sb.env), 'untrusted', 'a move withdraws trust');
  renameSync(moved, proj);
  assert.equal(trust(), 'allowed');

  const gen = () => readFileSync(generationPath(sb.env), 'utf8');
  const before = gen();
  const d = await keyrack(['deny', file], { env: sb.env });
  assert.equal(d.code, 0, d.stderr);
  assert.equal(trust(), 'denied');
  assert.notEqual(gen(), before, 'deny bumps the generation so hooks notice');
  assert.equal((await keyrack(['allow'], { env: sb.env, cwd: proj })).code, 0);
  assert.equal(trust(), 'allowed', 'allow lifts a deny');
});

test('allow refuses a broken manifest with its location, and a missing one', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const proj = join(sb.dir, 'p');
  mkdirSync(proj);
  writeFileSync(join(proj, '.keyrack'), 'GOOD\nLD_PRELOAD\n');
  const r = await keyrack(['allow', proj], { env: sb.env });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /p\/\.keyrack:2: LD_PRELOAD changes how programs or shells run/);
  assert.equal(trustOf({ path: join(proj, '.keyrack'), content: 'GOOD\nLD_PRELOAD\n' }, sb.env), 'untrusted', 'nothing was trusted');
});

test('allow without a manifest says so and exits 2', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const r = await keyrack(['allow', sb.dir], { env: sb.env });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no \.keyrack in/);
});

test('through a symlinked directory, allow and status find the manifest the hook finds (the logical $PWD)', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const logical = join(sb.dir, 'logical');
  const real = join(sb.dir, 'real', 'sub');
  mkdirSync(logical);
  mkdirSync(real, { recursive: true });
  writeFileSync(join(logical, '.keyrack'), 'A\n');
  symlinkSync(real, join(logical, 'link'));
  const env = { ...sb.env, PWD: join(logical, 'link') };
  const exp = await keyrack(['export', 'json'], { env, cwd: real });
  assert.match(exp.stderr, /\.keyrack is untrusted/, 'the hook sees the logical parent\'s manifest');
  const r = await keyrack(['allow'], { env, cwd: real });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`allowed ${join(logical, '.keyrack')}`));
  const st = JSON.parse((await keyrack(['status', '--json'], { env, cwd: real })).stdout) as { manifest: { path: string; trust: string } };
  assert.deepEqual([st.manifest.path, st.manifest.trust], [join(logical, '.keyrack'), 'allowed']);
});
