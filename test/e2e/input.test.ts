/**
 * Reading secrets: the value rules (UTF-8, no NUL, not empty, one trailing \n
 * dropped), the raw-keystroke line editor, and the real thing — stdin pipes and a
 * hidden prompt on a pseudo-terminal.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { HiddenLine, stripOneNewline, textOf, valueFromBytes } from '../../src/input.ts';
import { UserError } from '../../src/errors.ts';
import { KEYRACK, keyrack, run, sandbox, type Sandbox } from '../helpers.ts';
import { Pty } from '../pty.ts';

const CHILD = fileURLToPath(new URL('../input-child.ts', import.meta.url));
const enc = (s: string) => new TextEncoder().encode(s);
const refused = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);

describe('value rules', () => {
  test('exactly one trailing newline is dropped', () => {
    assert.equal(valueFromBytes(enc('a\n'), 'v'), 'a');
    assert.equal(valueFromBytes(enc('a\n\n'), 'v'), 'a\n');
    assert.equal(valueFromBytes(enc('a'), 'v'), 'a');
    assert.equal(valueFromBytes(enc('a\r\n'), 'v'), 'a\r');
    assert.equal(valueFromBytes(enc('\na'), 'v'), '\na');
    assert.deepEqual(stripOneNewline(enc('\n\n')), enc('\n'));
  });

  test('text is kept exactly, BOM and control characters included', () => {
    for (const s of ['\uFEFFbom', 'tab\there', 'é🔑\u0001', ' spaces ']) assert.equal(textOf(enc(s), 'v'), s);
  });

  test('NUL, invalid UTF-8 and empty values are refused without quoting them', () => {
    assert.throws(() => valueFromBytes(enc('sec\0ret'), 'the value for K'), refused(/^the value for K contains a NUL byte \(at byte 3\)/));
    assert.throws(() => valueFromBytes(Uint8Array.from([0x73, 0x65, 0xff]), 'v'), refused(/not valid UTF-8 \(at byte 2\)/));
    assert.throws(() => valueFromBytes(Uint8Array.from([0xed, 0xa0, 0x80]), 'v'), refused(/not valid UTF-8/), 'a UTF-16 surrogate');
    assert.throws(() => valueFromBytes(Uint8Array.from([0xc0, 0xaf]), 'v'), refused(/not valid UTF-8 \(at byte 0\)/), 'overlong');
    assert.throws(() => valueFromBytes(Uint8Array.from([0x61, 0xe2, 0x82]), 'v'), refused(/not valid UTF-8 \(at byte 3\)/), 'cut short');
    assert.throws(() => valueFromBytes(enc(''), 'v'), refused(/is empty/));
    assert.throws(() => valueFromBytes(enc('\n'), 'v'), refused(/is empty/));
    try {
      valueFromBytes(enc('hunter2\0'), 'v');
    } catch (e) {
      assert.ok(!(e as Error).message.includes('hunter2'));
    }
  });
});

describe('HiddenLine (raw keystrokes)', () => {
  const type = (...chunks: string[]) => {
    const l = new HiddenLine();
    let r: string = 'more';
    for (const c of chunks) {
      r = l.feed(enc(c));
      if (r !== 'more') break;
    }
    return { r, v: new TextDecoder().decode(l.value()) };
  };

  test('Enter ends the line; what follows is ignored', () => {
    assert.deepEqual(type('abc\rdef'), { r: 'done', v: 'abc' });
    assert.deepEqual(type('ab', 'c\n'), { r: 'done', v: 'abc' });
  });
  test('Backspace removes one whole character, even a multi-byte one', () => {
    assert.deepEqual(type('abX\x7fc\r'), { r: 'done', v: 'abc' });
    assert.deepEqual(type('aé🔑\x7f\x7f\x08b\r'), { r: 'done', v: 'b' });
    assert.deepEqual(type('\x7f\x7fa\r'), { r: 'done', v: 'a' });
  });
  test('Ctrl-U clears, escape sequences are dropped, other controls ignored', () => {
    assert.deepEqual(type('junk\x15ok\r'), { r: 'done', v: 'ok' });
    assert.deepEqual(type('a\x1b[Db\x1bOCc\x1b[200~d\x1b[201~\x01\r'), { r: 'done', v: 'abcd' });
    assert.deepEqual(type('a\tb\r'), { r: 'done', v: 'a\tb' });
  });
  test('Ctrl-C cancels; Ctrl-D cancels only an empty line', () => {
    assert.equal(type('abc\x03').r, 'cancel');
    assert.equal(type('\x04').r, 'cancel');
    assert.deepEqual(type('abc\x04'), { r: 'done', v: 'abc' });
  });
});

describe('reading from stdin (not a TTY)', () => {
  let sb: Sandbox;
  before(() => { sb = sandbox(); });
  after(() => sb.cleanup());

  test('set stores all of stdin minus one trailing newline', async () => {
    const cases: Array<[string, string]> = [['a\n', 'a'], ['a\n\n', 'a\n'], ['no newline', 'no newline'], ['multi\nline\n', 'multi\nline'], ['\uFEFFx\r\n', '\uFEFFx\r']];
    for (const [input, stored] of cases) {
      const s = await keyrack(['set', 'V', '--vault', 'os.direct'], { env: sb.env, input });
      assert.equal(s.code, 0, s.stderr);
      const g = await keyrack(['get', 'V'], { env: sb.env });
      assert.equal(g.stdout, `${stored}\n`, JSON.stringify(input));
    }
  });

  test('a passphrase is one line; the rest of stdin is left for the next reader', async () => {
    const r = await run(process.execPath, ['--import', 'tsx', CHILD, 'passphrase+secret'], { input: 'my pass phrase\nthe value\n\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { p: 'my pass phrase', v: 'the value\n' });
    const noNl = await run(process.execPath, ['--import', 'tsx', CHILD, 'confirm'], { input: 'just this' });
    assert.deepEqual(JSON.parse(noNl.stdout), { p: 'just this' });
    const empty = await run(process.execPath, ['--import', 'tsx', CHILD, 'confirm'], { input: '\nmore' });
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /passphrase is empty/);
  });
});

describe('hidden prompt on a terminal', () => {
  let sb: Sandbox;
  before(() => { sb = sandbox(); });
  after(() => sb.cleanup());

  test('typed keys are not echoed; backspace and arrows are handled', async () => {
    const pty = new Pty([process.execPath, KEYRACK, 'set', 'TYPED', '--vault', 'os.direct'], { env: sb.env });
    await pty.expect('Value for TYPED (hidden): ');
    pty.write('seX\x7fcr');
    pty.write('é\x7f');
    pty.write('et \x1b[D🔑');
    pty.write('\r');
    assert.equal(await pty.exited, 0, pty.output);
    for (const s of ['sec', 'secr', 'é', '🔑', 'X']) assert.ok(!pty.output.includes(s), `echoed ${s}: ${JSON.stringify(pty.output)}`);
    assert.equal((await keyrack(['get', 'TYPED'], { env: sb.env })).stdout, 'secret 🔑\n');
  });

  test('Ctrl-C cancels (exit 130, "cancelled") and stores nothing', async () => {
    const pty = new Pty([process.execPath, KEYRACK, 'set', 'CANCELLED', '--vault', 'os.direct'], { env: sb.env });
    await pty.expect('Value for CANCELLED (hidden): ');
    pty.write('abc\x03');
    assert.equal(await pty.exited, 130);
    assert.match(pty.output, /keyrack: cancelled\r?\n/);
    assert.equal((await keyrack(['get', 'CANCELLED'], { env: sb.env })).code, 2);
  });

  test('a passphrase is asked twice and must match', async () => {
    const ok = new Pty([process.execPath, '--import', 'tsx', CHILD, 'confirm']);
    await ok.expect('Passphrase: ');
    ok.write('pässphrase\r');
    await ok.expect('Same passphrase again: ');
    ok.write('pässphrase\r');
    assert.equal(await ok.exited, 0, ok.output);
    assert.match(ok.output, /\{"p":"pässphrase"\}/);
    assert.equal(ok.output.split('pässphrase').length, 2, 'only the JSON line shows it, never the echo');

    // init asks again after a mismatch; Ctrl-C then stops it, and nothing is created.
    const bad = new Pty([process.execPath, KEYRACK, 'init'], { env: sb.env });
    await bad.expect('New os.secure passphrase: ');
    bad.write('one\r');
    await bad.expect('Same passphrase again: ');
    bad.write('two\r');
    await bad.expect('do not match — try again');
    await bad.expect('New os.secure passphrase: ');
    bad.write('\x03');
    assert.equal(await bad.exited, 130);
    assert.match(bad.output, /keyrack: cancelled/);
    const status = await keyrack(['set', 'K'], { env: sb.env, input: 'v' });
    assert.match(status.stderr, /run keyrack init first/, 'no identity was created');

    // The second time right: created.
    const retry = new Pty([process.execPath, KEYRACK, 'init'], { env: sb.env });
    for (const typed of ['one', 'two', 'three', 'three']) {
      await retry.expect(/(New os\.secure passphrase|Same passphrase again): /);
      retry.write(`${typed}\r`);
    }
    assert.equal(await retry.exited, 0, retry.output);
    assert.match(retry.output, /keyrack: created the os\.secure identity/);
  });
});
