/**
 * Colour and progress: escape sequences only on a TTY without NO_COLOR; the progress
 * line animates and clears on a TTY, and is one plain line elsewhere. Checked
 * in-process with fake streams, then with the built CLI through pipes and through
 * a real pseudo-terminal.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { keyrack, KEYRACK, requireTool, sandbox, type Sandbox } from '../helpers.ts';
import { Pty } from '../pty.ts';
import { color, colorEnabled, progress, type TermStream } from '../../src/term.ts';

const ESC = '\x1b';

function fakeStream(isTTY: boolean, columns = 80): TermStream & { out: string[] } {
  const out: string[] = [];
  return { isTTY, columns, out, write(s: string) { out.push(s); return true; } };
}

describe('term helpers', () => {
  test('colour only on a TTY, with NO_COLOR unset or empty, and TERM not dumb', () => {
    const tty = { isTTY: true };
    assert.equal(colorEnabled(tty, {}), true);
    assert.equal(colorEnabled(tty, { NO_COLOR: '' }), true, 'an empty NO_COLOR does not disable (no-color.org)');
    assert.equal(colorEnabled(tty, { NO_COLOR: '1' }), false);
    assert.equal(colorEnabled(tty, { NO_COLOR: '0' }), false, 'any non-empty value disables');
    assert.equal(colorEnabled(tty, { TERM: 'dumb' }), false);
    assert.equal(colorEnabled({ isTTY: false }, {}), false);
    assert.equal(colorEnabled({}, {}), false);
    assert.equal(color(false).green('ok'), 'ok');
    assert.equal(color(true).green('ok'), `${ESC}[32mok${ESC}[39m`);
  });

  test('progress on a plain stream: one line, nothing when done', () => {
    const s = fakeStream(false);
    const p = progress('fetching 3 keys', { stream: s, env: {} });
    p.update('still fetching');
    p.done();
    assert.deepEqual(s.out, ['keyrack: fetching 3 keys…\n']);
  });

  test('progress on a TTY: spinner frames, cut to the width, cleared, no escape sequence', async () => {
    const s = fakeStream(true, 30);
    const p = progress('a label far longer than this little terminal is wide', { stream: s, env: { NO_COLOR: '' }, intervalMs: 5 });
    await sleep(40);
    p.update('short');
    p.done();
    p.done();
    const all = s.out.join('');
    assert.ok(!all.includes(ESC), 'no escape sequence, ever');
    assert.ok(s.out.length >= 3, 'redrawn while running');
    for (const w of s.out.slice(0, -1)) {
      const shown = w.split('\r').filter(Boolean);
      for (const line of shown) assert.ok([...line].length <= 29, `fits in 29 columns: ${JSON.stringify(line)}`);
    }
    assert.match(s.out[0]!, /^\r. a label far longer than th…$/);
    assert.ok(s.out.some((w) => /short…/.test(w)));
    // The last write blanks what was drawn and returns to column 0.
    assert.match(s.out[s.out.length - 1]!, /^\r +\r$/);
    assert.equal(s.out.filter((w) => /^\r +\r$/.test(w)).length, 1, 'cleared once');
  });
});

describe('human output of the CLI', () => {
  let sb: Sandbox;
  before(async () => {
    sb = sandbox();
    assert.equal((await keyrack(['set', 'PLAIN', '--vault', 'os.direct'], { env: sb.env, input: 'v' })).code, 0);
    assert.equal((await keyrack(['set', 'REMOTE', '--vault', '1password', '--ref', 'op://Private/x/y'], { env: sb.env })).code, 0);
  });
  after(() => sb.cleanup());

  test('through pipes: no escape sequences', async () => {
    for (const env of [sb.env, { ...sb.env, NO_COLOR: '' }]) {
      const r = await keyrack(['list'], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^PLAIN\s+os\.direct\s+-\s+ready$/m);
      assert.ok(!r.stdout.includes(ESC) && !r.stderr.includes(ESC));
    }
    const init = await keyrack(['init'], { env: sb.env, input: 'pipe passphrase\n' });
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stderr, /^keyrack: creating the identity \(this takes a moment\)…\nkeyrack: created the os\.secure identity [^\n]+\n$/, 'one plain progress line, then the result');
  });

  test('through a terminal: coloured, unless NO_COLOR is set', async (t) => {
    if (!requireTool('python3')) return t.skip('python3 missing');
    const list = async (extra: NodeJS.ProcessEnv) => {
      const pty = new Pty([process.execPath, KEYRACK, 'list'], { env: { ...sb.env, TERM: 'xterm-256color', ...extra } });
      assert.equal(await pty.exited, 0, pty.output);
      return pty.output;
    };
    const coloured = await list({});
    assert.ok(coloured.includes(`${ESC}[32mready${ESC}[39m`), JSON.stringify(coloured));
    assert.ok(coloured.includes(`${ESC}[33mlocked${ESC}[39m`));
    const emptyNoColor = await list({ NO_COLOR: '' });
    assert.ok(emptyNoColor.includes(ESC), 'an empty NO_COLOR keeps colour');
    for (const value of ['1', 'true', '0']) {
      const plain = await list({ NO_COLOR: value });
      assert.ok(!plain.includes(ESC), `NO_COLOR=${value}: ${JSON.stringify(plain)}`);
      assert.match(plain, /^PLAIN\s+os\.direct\s+-\s+ready\r?$/m);
    }
    const dumb = await list({ TERM: 'dumb' });
    assert.ok(!dumb.includes(ESC), 'TERM=dumb');
  });

  test('init on a terminal: the progress line shows, then is cleared; no escape sequences', async (t) => {
    if (!requireTool('python3')) return t.skip('python3 missing');
    const fresh = sandbox();
    try {
      const pty = new Pty([process.execPath, KEYRACK, 'init'], { env: { ...fresh.env, TERM: 'xterm-256color', NO_COLOR: '1' } });
      await pty.expect('New os.secure passphrase: ');
      pty.write('tty passphrase\r');
      await pty.expect('Same passphrase again: ');
      pty.write('tty passphrase\r');
      assert.equal(await pty.exited, 0, pty.output);
      const out = pty.output;
      assert.match(out, /\r. creating the identity \(this takes a moment\)…/, 'the spinner line');
      assert.match(out, /\r +\rkeyrack: created the os\.secure identity/, 'cleared before the result');
      assert.ok(!out.includes('keyrack: creating'), 'not the plain line');
      assert.ok(!out.includes(ESC), JSON.stringify(out));
    } finally {
      fresh.cleanup();
    }
  });
});
