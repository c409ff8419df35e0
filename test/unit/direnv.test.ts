/**
 * What `use keyrack` hands direnv (env/direnv.ts): the keys of the trusted manifest
 * as plain exports, with no state of keyrack's own, and the files to watch: every
 * place from the directory up to the manifest where a nearer one could appear.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manifestWatch, renderDirenvExport } from '../../src/env/direnv.ts';
import { generationPath } from '../../src/paths.ts';
import { quotePosix as q } from '../../src/shells/posix.ts';
import type { HeldGetter } from '../../src/env/scope.ts';
import { tempEnv } from './fixture.ts';

/** The daemon's held values, in-process. */
const held = (values: Record<string, string>): HeldGetter => async (names) =>
  Object.fromEntries(names.filter((n) => n in values).map((n) => [n, { value: values[n]!, expiresAt: Date.now() + 60_000 }]));

test('manifestWatch: each .keyrack from the directory up to the one in effect, or up to /', (t) => {
  const te = tempEnv();
  t.after(() => te.cleanup());
  const proj = te.project('proj', 'A\n');
  const deep = join(proj, 'src', 'lib');
  mkdirSync(deep, { recursive: true });
  assert.deepEqual(manifestWatch(deep), [join(deep, '.keyrack'), join(proj, 'src', '.keyrack'), join(proj, '.keyrack')]);
  const none = join(te.dir, 'none');
  mkdirSync(none);
  const all = manifestWatch(none);
  assert.equal(all[0], join(none, '.keyrack'));
  assert.equal(all.at(-1), '/.keyrack');
});

test('export direnv: watch_file, then plain exports; KEYRACK_STATE neither read nor set', async (t) => {
  const te = tempEnv();
  t.after(() => te.cleanup());
  te.register({ A: 'os.direct', B: 'os.secure' });
  te.direct({ A: "a'1" });
  const proj = te.project('proj', 'A\nB\n');
  writeFileSync(join(proj, 'unrelated'), '');
  // A state that claims A is already set: a hook's business, not direnv's.
  const env = { ...te.env, KEYRACK_STATE: '1 A:0123456789abcdef' };
  const r = await renderDirenvExport(env, { dir: proj, getHeld: held({ B: 'bee' }) });
  assert.equal(r.code, 0);
  // (quotePosix's exactness is test/unit/quote.test.ts's; here, what is said.)
  assert.equal(r.stdout, [
    `watch_file ${q(generationPath(env))} ${q(join(proj, '.keyrack'))}`,
    `export A=${q("a'1")}`,
    `export B=${q('bee')}`,
    '',
  ].join('\n'));
  assert.equal(r.stderr, '');
  const locked = await renderDirenvExport(env, { dir: proj, getHeld: held({}) });
  assert.match(locked.stdout, /^watch_file .*\nexport A=/);
  assert.doesNotMatch(locked.stdout, /export B/);
  assert.equal(locked.stderr, 'keyrack: B locked — run keyrack unlock\n');
});
