import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync, symlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseManifest, findManifest, loadManifest, readManifest, ManifestError } from '../../src/env/manifest.ts';
import { aliasProblem, envNameProblem } from '../../src/env/names.ts';

import { P, refusal as errorOf } from './manifest-refusal.ts';

test('the DESIGN.md example parses', () => {
  const m = parseManifest(P, [
    '# keys this project needs; one per line; \'#\' starts a comment',
    'GITHUB_TOKEN                 # env var GITHUB_TOKEN  <- key GITHUB_TOKEN',
    'NPM_TOKEN = npm-publish      # env var NPM_TOKEN     <- key npm-publish',
    'SENTRY_DSN?                  # optional',
    'AWS_PROD                     # an aws.sso key',
    '',
  ].join('\n'));
  assert.deepEqual(m.entries, [
    { env: 'GITHUB_TOKEN', key: 'GITHUB_TOKEN', optional: false, line: 2 },
    { env: 'NPM_TOKEN', key: 'npm-publish', optional: false, line: 3 },
    { env: 'SENTRY_DSN', key: 'SENTRY_DSN', optional: true, line: 4 },
    { env: 'AWS_PROD', key: 'AWS_PROD', optional: false, line: 5 },
  ]);
  assert.equal(m.dir, '/p');
});

test('optional alias, CRLF, BOM, tabs and no spaces around =', () => {
  const m = parseManifest(P, '\uFEFFA?=k.1\r\n\tB\t=\tk-2\t\r\n');
  assert.deepEqual(m.entries.map((e) => [e.env, e.key, e.optional, e.line]), [['A', 'k.1', true, 1], ['B', 'k-2', false, 2]]);
});

test('empty and comment-only manifests have no entries', () => {
  assert.deepEqual(parseManifest(P, '').entries, []);
  assert.deepEqual(parseManifest(P, '# nothing\n\n   \n#x=y\n').entries, []);
});

const bad: Array<[string, number, RegExp]> = [
  ['A\n1BAD\n', 2, /not a valid variable name/],
  ['A-B\n', 1, /not a valid variable name/],
  ['PATH\n', 1, /PATH changes how programs or shells run/],
  ['# x\nLD_PRELOAD = k\n', 2, /LD_\*/],
  ['DYLD_INSERT_LIBRARIES\n', 1, /DYLD_\*/],
  ['KEYRACK_STATE\n', 1, /KEYRACK_\*/],
  ['NODE_OPTIONS\n', 1, /NODE_OPTIONS/],
  ['PROMPT_COMMAND\n', 1, /PROMPT_COMMAND/],
  ['PS1\n', 1, /PS1/],
  ['BASH_ENV\n', 1, /BASH_ENV/],
  ['IFS\n', 1, /IFS/],
  ['A = b c\n', 1, /cannot read/],
  ['A B\n', 1, /cannot read/],
  ['A =\n', 1, /must be followed by a key name/],
  ['= k\n', 1, /must start with a variable name/],
  ['A = k?\n', 1, /put "\?" after the variable name/],
  ['A = k/x\n', 1, /^cannot read A: what follows the name looks like a value/],
  ['A = .k\n', 1, /the key name after "=" must start with a letter/],
  [`A = ${'k'.repeat(129)}\n`, 1, /longer than 128/],
  ['A\nB\nA = other\n', 3, /A is already listed on line 1/],
  ['A\0\n', 1, /NUL/],
];
for (const [content, line, reason] of bad) {
  test(`refuses ${JSON.stringify(content).slice(0, 40)} at line ${line}`, () => {
    const e = errorOf(content);
    assert.equal(e.line, line);
    assert.equal(e.file, P);
    assert.match(e.message, new RegExp(`^${P.replace(/\./g, '\\.')}:${line}: `));
    assert.match(e.reason, reason);
  });
}

test('property: any text either parses or fails with a located ManifestError', () => {
  const lineArb = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.constantFrom('A', 'B?', 'C = k', 'PATH', '#', '=', '?', ' = ', 'D?=e', 'X = y?'),
  );
  fc.assert(fc.property(fc.array(lineArb, { maxLength: 8 }), (lines) => {
    const content = lines.join('\n');
    try {
      const m = parseManifest(P, content);
      for (const e of m.entries) {
        assert.ok(e.line >= 1 && e.line <= lines.length);
        assert.match(e.env, /^[A-Za-z_][A-Za-z0-9_]*$/);
      }
    } catch (e) {
      assert.ok(e instanceof ManifestError, `threw ${String(e)}`);
      assert.ok(e.line >= 1 && e.line <= Math.max(1, lines.length));
    }
  }), { seed: 42, numRuns: 2000 });
});

test('property: names written out parse back to the same entries', () => {
  // Names the deny-lists refuse are left out: this is about the syntax round trip.
  const env = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,10}$/).filter((s) => envNameProblem(s) === null);
  const key = fc.stringMatching(/^[a-z_][a-z0-9_.-]{0,10}$/);
  const entry = fc.record({ env, key: fc.option(key, { nil: undefined }), optional: fc.boolean() })
    .filter((e) => e.key === undefined || aliasProblem(e.env, e.key) === null);
  fc.assert(fc.property(fc.uniqueArray(entry, { selector: (e) => e.env, maxLength: 10 }), (entries) => {
    const text = entries.map((e) => `${e.env}${e.optional ? '?' : ''}${e.key ? ` = ${e.key}` : ''}  # c`).join('\n');
    const parsed = parseManifest(P, text).entries;
    assert.deepEqual(parsed.map((p) => [p.env, p.key, p.optional]), entries.map((e) => [e.env, e.key ?? e.env, e.optional]));
  }), { seed: 7, numRuns: 500 });
});

test('discovery: the nearest .keyrack upwards wins; a symlinked .keyrack stops the walk and is refused', () => {
  const root = mkdtempSync(join(tmpdir(), 'kr-m-'));
  try {
    mkdirSync(join(root, 'a', 'b', 'c'), { recursive: true });
    writeFileSync(join(root, 'a', '.keyrack'), 'OUTER\n');
    writeFileSync(join(root, 'a', 'b', '.keyrack'), 'INNER\n');
    assert.equal(findManifest(join(root, 'a', 'b', 'c')), join(root, 'a', 'b', '.keyrack'));
    assert.equal(loadManifest(join(root, 'a'))!.entries[0]!.env, 'OUTER');
    assert.equal(loadManifest(join(root, 'a', 'b', 'c'))!.entries[0]!.env, 'INNER');
    assert.equal(findManifest('/'), null);
    mkdirSync(join(root, 'a', '.keyrack-dir'));
    mkdirSync(join(root, 'link'));
    symlinkSync(join(root, 'a', '.keyrack'), join(root, 'link', '.keyrack'));
    assert.equal(findManifest(join(root, 'link')), join(root, 'link', '.keyrack'), 'the walk stops at the link');
    assert.throws(() => loadManifest(join(root, 'link')), (e: unknown) => e instanceof ManifestError && e.line === 0 && /is a symbolic link/.test(e.message));
    // A symlinked directory above a regular manifest is fine: the path is the directory's real one.
    symlinkSync(join(root, 'a', 'b'), join(root, 'blink'));
    assert.equal(loadManifest(join(root, 'blink'))!.path, join(root, 'a', 'b', '.keyrack'));
    // A directory named .keyrack is not a manifest.
    mkdirSync(join(root, 'd', '.keyrack'), { recursive: true });
    assert.equal(findManifest(join(root, 'd')), null);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a manifest that is not UTF-8 is refused at the right line', () => {
  const root = mkdtempSync(join(tmpdir(), 'kr-m-'));
  try {
    writeFileSync(join(root, '.keyrack'), Buffer.concat([Buffer.from('A\nB\n'), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]));
    assert.throws(() => readManifest(join(root, '.keyrack')), (e: unknown) => e instanceof ManifestError && e.line === 3 && /not valid UTF-8/.test(e.message));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
