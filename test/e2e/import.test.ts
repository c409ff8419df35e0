/**
 * `keyrack import`: the dotenv parser in-process (syntax, located errors that never
 * quote a value, a seeded round-trip property), then the built CLI in a sandbox:
 * all-or-nothing, --force, moving vaults, and dropping values the daemon held.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { KEYRACK, keyrack, sandbox, type Sandbox } from '../helpers.ts';
import { blockedIn, fedPipe } from '../fifo.ts';
import { Pty } from '../pty.ts';
import { snapshot } from '../snapshot.ts';
import { parseDotenv } from '../../src/dotenv.ts';
import { files } from '../../src/paths.ts';
import { vault as secure } from '../../src/vaults/secure.ts';
import { UserError } from '../../src/errors.ts';

const PASS = 'import test passphrase';
const SECRET = 'hunter2-Sup3rSecret';

function parse(text: string | Buffer): Array<[string, string]> {
  return parseDotenv(Buffer.from(text), 'x.env').map((e) => [e.name, e.value]);
}

function parseError(text: string | Buffer): string {
  try {
    parseDotenv(Buffer.from(text), 'x.env');
  } catch (e) {
    assert.ok(e instanceof UserError, 'a UserError (exit 2)');
    return e.message;
  }
  assert.fail('expected a parse error');
}

describe('dotenv parser', () => {
  test('the syntax keyrack accepts', () => {
    const text = [
      '# a comment',
      '',
      '   ',
      'PLAIN=value',
      'export EXPORTED=yes',
      'SPACED = two words   # trailing comment',
      'HASH=url#fragment',
      "SINGLE='lit $HOME \\n \"x\" # not a comment'",
      'DOUBLE="a\\nb\\tc \\"q\\" \\\\ \\$keep"   # comment',
      'MULTI="line one',
      'line two"',
      "MULTI_SQ='one",
      "two'",
      'export=a key named export',
      'dotted.name-1=x',
      'TRAIL=  padded\t ',
      'EQ=a=b==',
    ].join('\n');
    assert.deepEqual(parse(text), [
      ['PLAIN', 'value'],
      ['EXPORTED', 'yes'],
      ['SPACED', 'two words'],
      ['HASH', 'url#fragment'],
      ['SINGLE', 'lit $HOME \\n "x" # not a comment'],
      ['DOUBLE', 'a\nb\tc "q" \\ \\$keep'],
      ['MULTI', 'line one\nline two'],
      ['MULTI_SQ', 'one\ntwo'],
      ['export', 'a key named export'],
      ['dotted.name-1', 'x'],
      ['TRAIL', 'padded'],
      ['EQ', 'a=b=='],
    ]);
  });

  test('CRLF files, a byte-order mark, and line numbers after multi-line values', () => {
    assert.deepEqual(parse('\uFEFFA=1\r\nB="x\r\ny"\r\n'), [['A', '1'], ['B', 'x\ny']]);
    const msg = parseError('A="one\ntwo\nthree"\nB=1\nbroken\n');
    assert.match(msg, /^x\.env:5: expected KEY=value/);
  });

  test('bad lines name file:line and why, never the value, and the whole file is refused', () => {
    const cases: Array<[string, RegExp]> = [
      [`A=1\n${SECRET}\n`, /^x\.env:2: expected KEY=value/],
      [`A=1\nB="${SECRET}\n\n`, /^x\.env:2: the double-quoted value of B is never closed/],
      [`A='${SECRET}\n`, /^x\.env:1: the single-quoted value of A is never closed/],
      [`A="${SECRET}" ${SECRET}\n`, /^x\.env:1: unexpected text after the closing quote of A/],
      [`A=1\n9${SECRET}=x\n`, /^x\.env:2: invalid key name/],
      [`A=1\nsk/${SECRET}=x\n`, /^x\.env:2: invalid key name/],
      [`A=${SECRET}\n\nA=2\n`, /^x\.env:3: A is set again \(first on line 1\)/],
      ['A=1\nB=\n', /^x\.env:2: B has an empty value/],
      ['A=1\nB= # only a comment\n', /^x\.env:2: B has an empty value/],
      ['A=1\nB=""\n', /^x\.env:2: B has an empty value/],
      ['__proto__=x\n', /^x\.env:1: __proto__ is reserved/],
      [`A=1\nB=${SECRET}\0\n`, /^x\.env:2: the line contains a NUL byte/],
      ['=x\n', /^x\.env:1: expected KEY=value/],
    ];
    for (const [text, why] of cases) {
      const msg = parseError(text);
      assert.match(msg, why, JSON.stringify(text));
      assert.match(msg, /nothing imported$/);
      assert.ok(!msg.includes(SECRET) && !msg.includes('hunter2'), `no value in: ${msg}`);
    }
    const bad = Buffer.concat([Buffer.from(`A=1\nB=2\nC=${SECRET}`), Buffer.from([0xff]), Buffer.from('\n')]);
    assert.match(parseError(bad), /^x\.env:3: the line is not valid UTF-8/);
    assert.match(parseError(Buffer.from([0x41, 0x3d, 0xc3])), /^x\.env:1: the file ends inside a UTF-8 character/);
  });

  test('property: any text value round-trips double- and single-quoted (seeded)', () => {
    const escapeDouble = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t');
    const value = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((v) => !v.includes('\0'));
    fc.assert(fc.property(value, (v) => {
      assert.deepEqual(parse(`K="${escapeDouble(v)}"\n`), [['K', v]]);
      // Raw newlines and CRs inside double quotes are kept too (CRLF aside).
      if (!v.includes('\r')) assert.deepEqual(parse(`K="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`), [['K', v]]);
      if (!v.includes("'") && !v.includes('\r')) assert.deepEqual(parse(`K='${v}'`), [['K', v]]);
    }), { seed: 7, numRuns: 300 });
  });

  test('property: arbitrary bytes either parse or fail with a located UserError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      try {
        parseDotenv(bytes, 'x.env');
      } catch (e) {
        assert.ok(e instanceof UserError);
        assert.match(e.message, /^x\.env:\d+: /);
      }
    }), { seed: 11, numRuns: 500 });
  });
});

describe('keyrack import', () => {
  let sb: Sandbox;
  let dir: string;
  const envFile = (name: string, text: string | Buffer): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const fetchSecure = async (names: string[]) => secure.fetch(
    names.map((name) => ({ name, entry: { vault: 'os.secure' as const } })),
    { env: sb.env, passphrase: async () => PASS, progress: () => {}, interactive: false },
  );
  const registryKeys = () => JSON.parse(readFileSync(files.registry(sb.env), 'utf8')).keys as Record<string, { vault: string }>;

  before(async () => {
    sb = sandbox();
    dir = sb.dir;
    const r = await keyrack(['init'], { env: sb.env, input: `${PASS}\n` });
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => sb.cleanup());

  test('into os.secure (the default): values encrypted, names reported, never values', async () => {
    const f = envFile('a.env', `# app\nGITHUB_TOKEN=${SECRET}\nexport DB_URL="postgres://u:p@h/db?x=1"\nMULTI="l1\\nl2"\n`);
    const r = await keyrack(['import', f], { env: sb.env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, 'keyrack: imported 3 keys into os.secure: GITHUB_TOKEN DB_URL MULTI\n');
    assert.equal(r.stdout, '');
    assert.deepEqual(registryKeys().GITHUB_TOKEN, { vault: 'os.secure' });
    assert.ok(!readFileSync(files.secureKey('GITHUB_TOKEN', sb.env)).includes(Buffer.from(SECRET)), 'not in the clear');
    const got = await fetchSecure(['GITHUB_TOKEN', 'DB_URL', 'MULTI']);
    assert.deepEqual(got.get('GITHUB_TOKEN'), { value: SECRET });
    assert.deepEqual(got.get('DB_URL'), { value: 'postgres://u:p@h/db?x=1' });
    assert.deepEqual(got.get('MULTI'), { value: 'l1\nl2' });
  });

  test('into os.direct: get returns the values', async () => {
    const f = envFile('d.env', "PLAIN_A=one\nPLAIN_B='two # kept'\n");
    const r = await keyrack(['import', f, '--vault', 'os.direct'], { env: sb.env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, 'keyrack: imported 2 keys into os.direct: PLAIN_A PLAIN_B\n');
    assert.equal((await keyrack(['get', 'PLAIN_B'], { env: sb.env })).stdout, 'two # kept\n');
  });

  test('existing keys are refused, listed, and nothing is stored; --force overwrites', async () => {
    const f = envFile('again.env', 'NEW_ONE=n\nPLAIN_A=changed\nGITHUB_TOKEN=rotated\n');
    const before = snapshot(sb.home);
    const r = await keyrack(['import', f, '--vault', 'os.direct'], { env: sb.env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /these keys exist already: PLAIN_A GITHUB_TOKEN — nothing imported; add --force/);
    assert.deepEqual(snapshot(sb.home), before, 'nothing on disk changed (not even NEW_ONE)');

    // GITHUB_TOKEN moves out of os.secure into plaintext: a downgrade, asked for explicitly.
    const forced = await keyrack(['import', f, '--vault', 'os.direct', '--force', '--downgrade'], { env: sb.env });
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /^keyrack: imported 3 keys into os\.direct: NEW_ONE PLAIN_A GITHUB_TOKEN$/m);
    assert.match(forced.stderr, /^keyrack: replaced PLAIN_A GITHUB_TOKEN$/m);
    assert.match(forced.stderr, /^keyrack: moved GITHUB_TOKEN \(from os\.secure\)$/m);
    assert.match(forced.stderr, /^keyrack: warning: GITHUB_TOKEN was in os\.secure and is now plaintext/m);
    assert.ok(!existsSync(files.secureKey('GITHUB_TOKEN', sb.env)), 'the old os.secure copy is gone');
    assert.equal((await keyrack(['get', 'GITHUB_TOKEN'], { env: sb.env })).stdout, 'rotated\n');
    assert.equal((await keyrack(['get', 'PLAIN_A'], { env: sb.env })).stdout, 'changed\n');
  });

  test('a bad line anywhere stores nothing and names file:line without the value', async () => {
    const f = envFile('bad.env', `FIRST_OK=${SECRET}\nSECOND_OK=x\n${SECRET}-no-equals\n`);
    const before = snapshot(sb.home);
    for (const vault of ['os.secure', 'os.direct']) {
      const r = await keyrack(['import', f, '--vault', vault], { env: sb.env });
      assert.equal(r.code, 2);
      assert.equal(r.stderr, `keyrack: ${f}:3: expected KEY=value — nothing imported\n`);
      assert.ok(!r.stderr.includes(SECRET));
    }
    const invalid = envFile('nul.env', Buffer.from(`A=1\nB=a\0b\n`));
    const n = await keyrack(['import', invalid], { env: sb.env });
    assert.equal(n.code, 2);
    assert.match(n.stderr, /nul\.env:2: the line contains a NUL byte/);
    assert.deepEqual(snapshot(sb.home), before);
  });

  test('import - reads stdin; errors say stdin:LINE; a terminal is refused', async () => {
    const r = await keyrack(['import', '-', '--vault', 'os.direct'], { env: sb.env, input: `PIPED_A=${SECRET}\nPIPED_B="b c"\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, 'keyrack: imported 2 keys into os.direct: PIPED_A PIPED_B\n');
    assert.equal((await keyrack(['get', 'PIPED_A'], { env: sb.env })).stdout, `${SECRET}\n`);
    const bad = await keyrack(['import', '-'], { env: sb.env, input: `PIPED_C=1\n${SECRET}\n` });
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'keyrack: stdin:2: expected KEY=value — nothing imported\n');
    const again = await keyrack(['import', '-', '--vault', 'os.direct'], { env: sb.env, input: 'PIPED_A=x\n' });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /^keyrack: stdin: this key exists already: PIPED_A — nothing imported; add --force/);
    const empty = await keyrack(['import', '-'], { env: sb.env, input: '' });
    assert.equal(empty.code, 2);
    assert.equal(empty.stderr, 'keyrack: stdin has no KEY=value lines; nothing imported\n');
    // On a terminal it would wait for typed secrets that echo: refused instead.
    const pty = new Pty([process.execPath, KEYRACK, 'import', '-'], { env: sb.env });
    await pty.expect('stdin is a terminal; pipe a dotenv file in');
    assert.equal(await pty.exited, 2);
  });

  test('import - waits for a slow writer (as `op inject | keyrack import -` is)', async () => {
    const pipe = fedPipe(dir);
    try {
      pipe.write(`SLOW_A=${SECRET}\n`);
      const child = spawn(process.execPath, [KEYRACK, 'import', '-', '--vault', 'os.direct'], { env: sb.env, stdio: [pipe.childFd, 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      // The first line is read; the rest has not been written yet.
      for (let i = 0; i < 1500 && child.exitCode === null && !blockedIn(child.pid!, 'read'); i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(child.exitCode, null, `import is still reading, not failed: ${stderr}`);
      pipe.write('SLOW_B=b\n');
      pipe.close(); // EOF
      assert.equal(await exited, 0, stderr);
      assert.equal(stderr, 'keyrack: imported 2 keys into os.direct: SLOW_A SLOW_B\n');
    } finally {
      pipe.close();
    }
  });

  test('usage errors: vault, missing file, empty file', async () => {
    const f = envFile('ok.env', 'X=1\n');
    const remote = await keyrack(['import', f, '--vault', '1password'], { env: sb.env });
    assert.equal(remote.code, 2);
    assert.match(remote.stderr, /1password keeps references, not values/);
    const unknown = await keyrack(['import', f, '--vault', 'os.nope'], { env: sb.env });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown vault 'os\.nope'/);
    const missing = await keyrack(['import', join(dir, 'nope.env')], { env: sb.env });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*nope\.env: no such file/);
    const empty = await keyrack(['import', envFile('empty.env', '# nothing\n\n')], { env: sb.env });
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /has no KEY=value lines; nothing imported/);
    assert.ok(!Object.hasOwn(registryKeys(), 'X'));
  });

  test('before init, an os.secure import says so and stores nothing', async () => {
    const fresh = sandbox();
    try {
      const f = join(fresh.dir, 'a.env');
      writeFileSync(f, 'A=1\n');
      const r = await keyrack(['import', f], { env: fresh.env });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /run keyrack init first/);
      assert.ok(!existsSync(files.registry(fresh.env)));
    } finally {
      fresh.cleanup();
    }
  });

  test('--force drops a value the daemon held, so the old one is never served', async () => {
    const unlock = await keyrack(['unlock', 'DB_URL'], { env: sb.env, input: `${PASS}\n` });
    assert.equal(unlock.code, 0, unlock.stderr);
    assert.equal((await keyrack(['get', 'DB_URL'], { env: sb.env })).code, 0);
    const f = envFile('rotate.env', 'DB_URL=postgres://new\n');
    const r = await keyrack(['import', f, '--force'], { env: sb.env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /the daemon held old values of DB_URL; locked them/);
    assert.equal((await keyrack(['get', 'DB_URL'], { env: sb.env })).code, 2, 'locked, not stale');
    assert.deepEqual((await fetchSecure(['DB_URL'])).get('DB_URL'), { value: 'postgres://new' });
    await keyrack(['daemon', 'stop'], { env: sb.env });
  });
});
