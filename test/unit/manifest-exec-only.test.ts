/**
 * The manifest's per-line exec-only marker: a last word `exec-only` after
 * whitespace, on any form of line. It only ever adds the mark; a line the parser
 * refused before is still refused (a value stays a value), and nothing else is
 * read as the marker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManifestError, parseManifest } from '../../src/env/manifest.ts';

const entries = (text: string) => parseManifest('/p/.keyrack', text).entries.map(({ env, key, optional, execOnly }) => ({ env, key, optional, execOnly }));

test('NAME exec-only, NAME? exec-only, NAME = key exec-only, with comments and tabs', () => {
  assert.deepEqual(entries('A exec-only\nB? exec-only\nC = c.key\texec-only   # deploy only\nD? = d-key exec-only\nE\n'), [
    { env: 'A', key: 'A', optional: false, execOnly: true },
    { env: 'B', key: 'B', optional: true, execOnly: true },
    { env: 'C', key: 'c.key', optional: false, execOnly: true },
    { env: 'D', key: 'd-key', optional: true, execOnly: true },
    { env: 'E', key: 'E', optional: false, execOnly: undefined },
  ]);
});

test('anything else is not the marker, and a value is still refused without being shown', () => {
  for (const line of ['exec-only', 'A exec-Only', 'A exec-only exec-only', 'A execonly', 'A exec-only?', 'A = exec-only']) {
    let parsed: ReturnType<typeof entries> | undefined;
    try {
      parsed = entries(`${line}\n`);
    } catch (e) {
      assert.ok(e instanceof ManifestError, line);
      continue;
    }
    // `A = exec-only` is key "exec-only" for A: a name, not the marker.
    assert.deepEqual(parsed, [{ env: 'A', key: 'exec-only', optional: false, execOnly: undefined }], line);
  }
  const secret = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789';
  assert.throws(() => entries(`TOKEN=${secret} exec-only\n`), (e: Error) => e instanceof ManifestError && !e.message.includes(secret) && /looks like a value/.test(e.message));
});
