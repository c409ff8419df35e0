/**
 * The manifest parse cache (src/env/manifest.ts readManifest) against a real
 * filesystem: a manifest older than the racy second is parsed once, and every change
 * is seen all the same — an in-place edit of the same size, one whose mtime was set
 * back, a file renamed over it, its directory moved (trust is bound to the real
 * path), a link or a directory put in its place, its removal.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadManifest, ManifestError, readManifest } from '../../src/env/manifest.ts';
import { RACY_NS } from '../../src/filecache.ts';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'kr-mcache-')));
after(() => rmSync(root, { recursive: true, force: true }));
const names = (f: string) => readManifest(f).entries.map((e) => e.env).join(' ');
const project = (name: string, text: string) => {
  mkdirSync(join(root, name));
  writeFileSync(join(root, name, '.keyrack'), text);
  return join(root, name, '.keyrack');
};

// Every manifest is made first, then left to age past the racy window once.
const f = { edit: '', back: '', renamed: '', moved: '', link: '', gone: '' };
before(async () => {
  f.edit = project('edit', 'AAA\n');
  f.back = project('back', 'BBB\n');
  f.renamed = project('renamed', 'CCC\n');
  mkdirSync(join(root, 'a'));
  f.moved = project('a/moved', 'DDD\n');
  symlinkSync(join(root, 'a'), join(root, 'via'));
  f.link = project('link', 'EEE\n');
  f.gone = project('gone', 'FFF\n');
  await sleep(Number(RACY_NS / 1_000_000n) + 100);
});

test('an unchanged manifest older than a second is parsed once; a young one every time', () => {
  assert.equal(readManifest(f.edit), readManifest(f.edit), 'the second read is the cached parse');
  const young = project('young', 'YYY\n');
  assert.notEqual(readManifest(young), readManifest(young), 'a file changed in the last second is read again');
  assert.ok(Object.isFrozen(readManifest(f.edit).entries[0]), 'shared, so frozen');
});

test('an in-place edit of the same size, within the same second, is seen', () => {
  assert.equal(names(f.edit), 'AAA');
  const st = statSync(f.edit);
  writeFileSync(f.edit, 'XYZ\n');
  assert.equal(statSync(f.edit).ino, st.ino, 'edited in place');
  assert.equal(names(f.edit), 'XYZ');
});

test('an edit whose mtime is set back is seen by its ctime', () => {
  assert.equal(names(f.back), 'BBB');
  const st = statSync(f.back);
  writeFileSync(f.back, 'QQQ\n');
  utimesSync(f.back, st.atime, st.mtime);
  assert.equal(names(f.back), 'QQQ');
});

test('a file renamed over it, with the same size and mtime, is seen', () => {
  assert.equal(names(f.renamed), 'CCC');
  const st = statSync(f.renamed);
  const tmp = `${f.renamed}.tmp`;
  writeFileSync(tmp, 'RRR\n');
  utimesSync(tmp, st.atime, st.mtime);
  renameSync(tmp, f.renamed);
  assert.equal(names(f.renamed), 'RRR');
});

test('the same file reached by the same path after its directory moved: bound to its new real path', () => {
  const via = join(root, 'via', 'moved', '.keyrack');
  assert.equal(readManifest(via).path, f.moved);
  renameSync(join(root, 'a'), join(root, 'b'));
  unlinkSync(join(root, 'via'));
  symlinkSync(join(root, 'b'), join(root, 'via'));
  assert.equal(readManifest(via).path, join(root, 'b', 'moved', '.keyrack'));
});

test('a link or a directory in its place is never served from the cache', () => {
  assert.equal(names(f.link), 'EEE');
  const other = project('other', 'EEE\n');
  unlinkSync(f.link);
  symlinkSync(other, f.link);
  assert.throws(() => readManifest(f.link), (e: unknown) => e instanceof ManifestError && /link|regular/.test(e.message));
  unlinkSync(f.link);
  mkdirSync(f.link);
  assert.equal(loadManifest(join(root, 'link')), null, 'a directory named .keyrack is passed over');
});

test('a removed manifest is gone', () => {
  assert.equal(names(f.gone), 'FFF');
  unlinkSync(f.gone);
  assert.equal(loadManifest(join(root, 'gone')), null);
});
