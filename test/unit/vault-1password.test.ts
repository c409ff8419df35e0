/**
 * The 1password vault in-process, against test/fakes/op (see test/vault-fixtures.ts):
 * references, one key by `op read`, many by one `op inject`, and every way op fails.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { vault as onepassword } from '../../src/vaults/onepassword.ts';
import { refProblem } from '../../src/vaults/op-ref.ts';
import { UserError } from '../../src/errors.ts';
import {
  NOT_INSTALLED, SIGN_IN_HINT, alive, argvLog, assertNoSecretInArgv, ctxOf, errorOf, keysOf, opSandbox, value, vaultBase,
} from '../vault-fixtures.ts';

describe('1password: references', () => {
  test('accepts the documented shapes', () => {
    for (const ref of ['op://vault/item/field', 'op://app-prod/db/Admin/password', 'op://Personal/GitHub Token/credential',
      'op://v/i/one-time password?attribute=otp', 'op://v/ssh/private key?ssh-format=openssh']) {
      assert.equal(refProblem(ref), null, ref);
      assert.equal(onepassword.validate!({ vault: '1password', ref }), null);
    }
  });

  test('refuses malformed references and says what is wrong', () => {
    const cases: Array<[string | undefined, RegExp]> = [
      [undefined, /needs --ref op:\/\/vault\/item\/field/],
      ['vault/item/field', /must start with op:\/\//],
      ['op://vault/item', /2 path segments; expected op:\/\/vault\/item\/field/],
      ['op://a/b/c/d/e', /5 path segments/],
      ['op://vault//field', /empty item name/],
      ['op://vault/item/', /empty field name/],
      ['op://vault/ item/field', /item name starts or ends with a space/],
      ['op://vault/item/fi\u00a0eld', /whitespace other than a plain space/],
      ['op://vault/item/fi\teld', /control character/],
      ['op://vault/item/fi\neld', /control character/],
      ['op://vault/{{item}}/field', /brace/],
      ['op://v/i/f?attribute', /malformed query/],
    ];
    for (const [ref, re] of cases) assert.match(refProblem(ref) ?? 'null', re, String(ref));
  });
});

describe('1password: fetch through op', () => {
  test('one key: op read, exactly the one trailing newline op adds is removed', async () => {
    const { sb, log } = opSandbox({ secrets: { 'op://v/item/nl': 'ends with newline\n', 'op://v/item/uni': 'Grüße 🔑 "q" $x `y`' } });
    try {
      const { ctx } = ctxOf(sb.env);
      let out = await onepassword.fetch(keysOf({ NL: { vault: '1password', ref: 'op://v/item/nl' } }), ctx);
      assert.equal(value(out.get('NL')), 'ends with newline\n');
      out = await onepassword.fetch(keysOf({ UNI: { vault: '1password', ref: 'op://v/item/uni' } }), ctx);
      assert.equal(value(out.get('UNI')), 'Grüße 🔑 "q" $x `y`');
      const calls = argvLog(log);
      assert.deepEqual(calls.map((c) => c.argv), [['read', 'op://v/item/nl'], ['read', 'op://v/item/uni']]);
      assertNoSecretInArgv(log);
    } finally {
      sb.cleanup();
    }
  });

  test('many keys: one op inject (template on stdin), references op inject cannot parse via op read', async () => {
    const secrets = {
      'op://v/a/password': 'alpha',
      'op://v/b/password': 'multi\nline\n\nvalue\n',
      'op://v/c/section/token': '{{ not a ref }} <<keyrack:x>>',
      'op://v/GitHub Token/credential': 'ghp_space_item',
    };
    const { sb, log } = opSandbox({ secrets });
    try {
      const { ctx } = ctxOf(sb.env);
      const out = await onepassword.fetch(keysOf({
        A: { vault: '1password', ref: 'op://v/a/password' },
        B: { vault: '1password', ref: 'op://v/b/password' },
        C: { vault: '1password', ref: 'op://v/c/section/token' },
        GH: { vault: '1password', ref: 'op://v/GitHub Token/credential' },
      }), ctx);
      assert.equal(value(out.get('A')), 'alpha');
      assert.equal(value(out.get('B')), 'multi\nline\n\nvalue\n');
      assert.equal(value(out.get('C')), '{{ not a ref }} <<keyrack:x>>');
      assert.equal(value(out.get('GH')), 'ghp_space_item');
      const argvs = argvLog(log).map((c) => c.argv);
      assert.equal(argvs.filter((a) => a?.[0] === 'inject').length, 1);
      assert.deepEqual(argvs.filter((a) => a?.[0] === 'read'), [['read', 'op://v/GitHub Token/credential']]);
      assertNoSecretInArgv(log);
    } finally {
      sb.cleanup();
    }
  });

  test('one bad reference fails only its key, with op\'s own message', async () => {
    const { sb, log } = opSandbox({ secrets: { 'op://v/a/password': 'good-a', 'op://v/b/password': 'good-b' } });
    try {
      const { ctx } = ctxOf(sb.env);
      const out = await onepassword.fetch(keysOf({
        A: { vault: '1password', ref: 'op://v/a/password' },
        MISSING: { vault: '1password', ref: 'op://v/nope/password' },
        B: { vault: '1password', ref: 'op://v/b/password' },
        BAD: { vault: '1password', ref: 'op://v/only-two' },
      }), ctx);
      assert.equal(value(out.get('A')), 'good-a');
      assert.equal(value(out.get('B')), 'good-b');
      const e = errorOf(out.get('MISSING'));
      assert.ok(e instanceof UserError);
      assert.match(e.message, /^1password \(op:\/\/v\/nope\/password\): op read failed: could not read secret 'op:\/\/v\/nope\/password': .*"nope" isn't an item in the "v" vault/);
      assert.doesNotMatch(e.message, /\[ERROR\]/);
      assert.match(errorOf(out.get('BAD')).message, /2 path segments/);
      assertNoSecretInArgv(log);
    } finally {
      sb.cleanup();
    }
  });

  test('values that are not valid UTF-8 or hold NUL are refused, never altered', async () => {
    const { sb } = opSandbox({
      secretsBase64: { 'op://v/bin/blob': Buffer.from([0x66, 0xff, 0xfe, 0x0a]).toString('base64') },
      secrets: { 'op://v/nul/x': 'a\u0000b', 'op://v/ok/x': 'fine' },
    });
    try {
      const { ctx } = ctxOf(sb.env);
      let out = await onepassword.fetch(keysOf({ BIN: { vault: '1password', ref: 'op://v/bin/blob' } }), ctx);
      assert.match(errorOf(out.get('BIN')).message, /not valid UTF-8/);
      out = await onepassword.fetch(keysOf({
        BIN: { vault: '1password', ref: 'op://v/bin/blob' },
        NUL: { vault: '1password', ref: 'op://v/nul/x' },
        OK: { vault: '1password', ref: 'op://v/ok/x' },
      }), ctx);
      assert.match(errorOf(out.get('BIN')).message, /not valid UTF-8/);
      assert.match(errorOf(out.get('NUL')).message, /NUL/);
      assert.equal(value(out.get('OK')), 'fine');
    } finally {
      sb.cleanup();
    }
  });

  test('not signed in: every key says exactly what to run, op runs once per strategy', async () => {
    const { sb, log } = opSandbox({ signedIn: false, secrets: { 'op://v/a/p': 'sa', 'op://v/b/p': 'sb' } });
    try {
      const { ctx } = ctxOf(sb.env);
      for (const keys of [{ A: 'op://v/a/p' }, { A: 'op://v/a/p', B: 'op://v/b/p', C: 'op://v/c d/p', D: 'op://v/e f/p' }]) {
        rmSync(log, { force: true });
        const out = await onepassword.fetch(keysOf(Object.fromEntries(Object.entries(keys).map(([k, ref]) => [k, { vault: '1password', ref }]))), ctx);
        for (const k of Object.keys(keys)) {
          const e = errorOf(out.get(k));
          assert.ok(e instanceof UserError);
          assert.equal(e.message, `1password: op is not signed in: ${SIGN_IN_HINT}`);
        }
        // inject for A+B, and one op read for the two spaced references (the first tells for both).
        assert.equal(argvLog(log).length, Object.keys(keys).length === 1 ? 1 : 2, JSON.stringify(argvLog(log)));
      }
    } finally {
      sb.cleanup();
    }
  });

  test('op not installed: a clear message with where to get it', async () => {
    const sb = vaultBase();
    try {
      // A PATH with nothing on it: whether or not this machine has op.
      const empty = join(sb.dir, 'empty-path');
      mkdirSync(empty);
      const { ctx } = ctxOf({ ...sb.env, PATH: empty });
      const out = await onepassword.fetch(keysOf({ A: { vault: '1password', ref: 'op://v/a/p' }, B: { vault: '1password', ref: 'op://v/b/p' } }), ctx);
      for (const k of ['A', 'B']) assert.equal(errorOf(out.get(k)).message, `1password: ${NOT_INSTALLED}`);
    } finally {
      sb.cleanup();
    }
  });

  test('a hung op is killed at the timeout and reported', async () => {
    const { sb, log } = opSandbox({ hang: ['op://v/hang/p'], secrets: { 'op://v/ok/p': 'ok-value' } }, { KEYRACK_OP_TIMEOUT: '1' });
    try {
      const { ctx } = ctxOf(sb.env);
      const out = await onepassword.fetch(keysOf({ H: { vault: '1password', ref: 'op://v/hang/p' } }), ctx);
      assert.equal(errorOf(out.get('H')).message, '1password (op://v/hang/p): op timed out after 1s (killed); is the 1Password app waiting for approval?');
      const pids = argvLog(log).map((c) => c.pid!);
      assert.equal(pids.length, 1);
      assert.equal(alive(pids[0]!), false, 'the hung op is still running');
      // The vault stays usable after a hang.
      const again = await onepassword.fetch(keysOf({ OK: { vault: '1password', ref: 'op://v/ok/p' } }), ctx);
      assert.equal(value(again.get('OK')), 'ok-value');
    } finally {
      sb.cleanup();
    }
  });
});
