/**
 * Quoting round-trip through the real shells: every value of a hostile corpus plus
 * seeded random UTF-8 is rendered by keyrack's bash/zsh/fish/tcsh/elvish code, run
 * as the hook runs it (eval'd inside a function; tcsh: sourced from a pipe; elvish:
 * eval'd with only the saved-values map in scope), and read back byte-exact from a
 * child's raw environment. None of it may run anything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '../tools.ts';
import { hostileValues, randomValues } from '../corpus.ts';
import { bash } from '../../src/shells/bash.ts';
import { zsh } from '../../src/shells/zsh.ts';
import { fish, quoteFish } from '../../src/shells/fish.ts';
import { json } from '../../src/shells/json.ts';
import { quotePosix } from '../../src/shells/posix.ts';
import { quoteTcsh, tcsh } from '../../src/shells/tcsh.ts';
import { elvish, quoteElvish } from '../../src/shells/elvish.ts';
import type { Changes, Shell } from '../../src/shells/shell.ts';

const dir = mkdtempSync(join(tmpdir(), 'kr-quote-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const canary = join(dir, 'CANARY');
const values = [...hostileValues(canary), ...randomValues(0x6b7279, 300)];
const names = values.map((_, i) => `KR_V${i}`);

function changes(vals: string[]): Changes {
  return { save: [], set: vals.map((v, i) => [names[i]!, v]), unset: [], forget: [], state: '1 KR_V0:0123456789abcdef', stateChanged: true };
}

function parseEnv(raw: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const entry of raw.toString('latin1').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) out.set(entry.slice(0, eq), Buffer.from(entry.slice(eq + 1), 'latin1'));
  }
  return out;
}

type Name = 'bash' | 'zsh' | 'fish' | 'tcsh' | 'elvish';

/** Runs `script` as the hook of `shell` does, returns the environment a child then sees. */
function roundTrip(shell: Name, script: string, lang = 'C.UTF-8', pre = ''): Map<string, Buffer> {
  const file = join(dir, `script.${shell}`);
  const out = join(dir, `env.${shell}`);
  writeFileSync(file, script);
  const argv = {
    bash: ['bash', '--norc', '--noprofile', '-c', `f() { eval "$(cat ${quotePosix(file)})"; }; f; env -0 > ${quotePosix(out)}`],
    zsh: ['zsh', '-f', '-c', `${pre}f() { eval "$(cat ${quotePosix(file)})"; }; f; env -0 > ${quotePosix(out)}`],
    fish: ['fish', '--no-config', '-c', `function f; cat ${quoteFish(file)} | source; end; f; env -0 > ${quoteFish(out)}`],
    // What shell/keyrack-gate.tcsh does around it: the UTF-8 locale while it reads.
    tcsh: ['tcsh', '-f', '-c', `${pre}setenv LC_ALL C.UTF-8; cat ${quoteTcsh(file)} | source /dev/stdin; unsetenv LC_ALL; env -0 > ${quoteTcsh(out)}`],
    elvish: ['elvish', '-norc', '-c', `var __keyrack_prev = [&]; fn f { eval (slurp < ${quoteElvish(file)}) &ns=(ns [&__keyrack_prev=$__keyrack_prev]) }; f; env -0 > ${quoteElvish(out)}`],
  }[shell];
  const r = spawnSync(argv[0]!, argv.slice(1), { env: { PATH: process.env.PATH, LANG: lang, LC_ALL: lang, HOME: dir }, encoding: 'utf8' });
  assert.equal(r.status, 0, `${shell} failed: ${r.stderr}`);
  assert.equal(r.stderr, '', `${shell} complained`);
  return parseEnv(readFileSync(out));
}

function assertExact(env: Map<string, Buffer>, vals: string[], label: string): void {
  const bad: string[] = [];
  vals.forEach((v, i) => {
    const got = env.get(names[i]!);
    if (!got || !got.equals(Buffer.from(v, 'utf8'))) bad.push(`#${i} ${JSON.stringify(v.slice(0, 40))} → ${got ? JSON.stringify(got.toString('utf8').slice(0, 40)) : 'unset'}`);
  });
  assert.deepEqual(bad, [], `${label}: values not round-tripped`);
  assert.equal(existsSync(canary), false, `${label}: a value was executed`);
}

for (const [name, shell] of [['bash', bash], ['zsh', zsh], ['fish', fish], ['tcsh', tcsh], ['elvish', elvish]] as Array<[Name, Shell]>) {
  test(`${name}: ${values.length} hostile and random values round-trip byte-exact, nothing runs`, (t) => {
    if (!requireTool(name)) return t.skip(`${name} missing`);
    const env = roundTrip(name, shell.render(changes(values)));
    assertExact(env, values, name);
    assert.equal(env.get('KEYRACK_STATE')?.toString(), '1 KR_V0:0123456789abcdef');
  });
}

for (const name of ['bash', 'zsh'] as const) {
  test(`${name}: quoting does not depend on the locale (LANG=C)`, (t) => {
    if (!requireTool(name)) return t.skip(`${name} missing`);
    const shell = name === 'bash' ? bash : zsh;
    assertExact(roundTrip(name, shell.render(changes(values)), 'C'), values, `${name} LANG=C`);
  });
}

test('zsh: RC_QUOTES (\'\' as a quote inside quotes) changes nothing', (t) => {
  if (!requireTool('zsh')) return t.skip('zsh missing');
  assertExact(roundTrip('zsh', zsh.render(changes(values)), 'C.UTF-8', 'setopt RC_QUOTES; '), values, 'zsh RC_QUOTES');
});

test('bash and zsh values are always one single-quoted word (what keyrack-fast checks)', () => {
  for (const v of values) assert.match(quotePosix(v), /^'[^']*'(\\''[^']*')*$/s, JSON.stringify(v));
});

for (const lang of ['C', 'POSIX']) {
  test(`tcsh: the hook's reading does not depend on the locale (LANG=${lang})`, (t) => {
    if (!requireTool('tcsh')) return t.skip('tcsh missing');
    assertExact(roundTrip('tcsh', tcsh.render(changes(values)), lang), values, `tcsh LANG=${lang}`);
  });
}

test('tcsh: exact even under the user\'s backslash_quote', (t) => {
  if (!requireTool('tcsh')) return t.skip('tcsh missing');
  // The hook unsets it while it reads (and histchars: test/e2e/shell-hook.test.ts);
  // the words do not depend on it either.
  const env = roundTrip('tcsh', tcsh.render(changes(values)), 'C.UTF-8', 'set backslash_quote; ');
  assertExact(env, values, 'tcsh with backslash_quote');
});

test('tcsh: the one line `keyrack hook tcsh` prints carries any path but a line break', (t) => {
  if (!requireTool('tcsh')) return t.skip('tcsh missing');
  // eval "`…`" joins lines and expands history: every hostile path character must survive it.
  const odd = join(dir, `it's a $HOME \`x\` !! "q" \\ ; & * ~ dir`);
  mkdirSync(odd, { recursive: true });
  const file = join(odd, 'keyrack.tcsh');
  // A stand-in for the hook file: prints what the line set.
  writeFileSync(file, 'printf "%s\\n" "$__keyrack_gen_file" "$__keyrack_gate" $__keyrack_run:q > "$__keyrack_out"\n');
  const paths = { gen: join(odd, 'gen'), node: join(odd, 'node'), script: join(odd, 'keyrack.mjs'), fast: join(odd, 'fast') };
  const line = tcsh.install!(file, paths);
  assert.equal(line.split('\n').length, 2, 'one line');
  const loader = join(dir, 'loader');
  const out = join(dir, 'loader.out');
  writeFileSync(loader, line);
  const r = spawnSync('tcsh', ['-f', '-c', `setenv __keyrack_out ${quoteTcsh(out)}; eval "\`cat ${quoteTcsh(loader)}\`"`], { encoding: 'utf8', env: { PATH: process.env.PATH, LANG: 'C.UTF-8', HOME: dir } });
  assert.equal(r.stderr, '');
  assert.equal(readFileSync(out, 'utf8'), [paths.gen, join(odd, 'keyrack-gate.tcsh'), paths.fast, paths.node, paths.script, ''].join('\n'));
  assert.throws(() => tcsh.install!(file, { ...paths, gen: '/tmp/a\nb' }), /line break/);
});

test('json: values survive JSON.parse exactly', () => {
  const parsed = JSON.parse(json.render(changes(values))) as { set: Record<string, string>; state: string };
  values.forEach((v, i) => assert.equal(parsed.set[names[i]!], v));
  assert.equal(parsed.state, '1 KR_V0:0123456789abcdef');
});

test('a value with NUL is refused, never silently cut', () => {
  assert.throws(() => quotePosix('a\0b'));
  assert.throws(() => quoteFish('a\0b'));
  assert.throws(() => quoteTcsh('a\0b'));
  assert.throws(() => quoteElvish('a\0b'));
});
