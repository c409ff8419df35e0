/**
 * The words for what keeps keys from a shell (env/readiness.ts), in both forms:
 * export's prompt line and exec's sentence, for one key and for several; and the
 * order in which each says them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../src/errors.ts';
import { assertReady, notices, words } from '../../src/env/readiness.ts';
import type { Scope } from '../../src/env/scope.ts';

const manifest = { path: '/p/.keyrack', dir: '/p', content: '', entries: [] };
const scope = (o: Partial<Scope>): Scope => ({ manifest, trust: 'allowed', vars: new Map(), locked: [], absent: [], near: new Map(), problems: [], execOnly: [], ...o });

test('each word in the prompt form and the sentence form', () => {
  assert.equal(words.locked(['A'], 'hint'), 'A locked — run keyrack unlock');
  assert.equal(words.locked(['A'], 'sentence'), 'A is locked — run keyrack unlock');
  assert.equal(words.locked(['A', 'B'], 'hint'), '2 keys locked (A, B) — run keyrack unlock');
  assert.equal(words.locked(['A', 'B'], 'sentence', 'unlocking'), '2 keys are locked (A, B) — unlocking');
  assert.equal(words.absent(['A'], 'hint'), 'A absent — run keyrack set A');
  assert.equal(words.absent(['A', 'B'], 'sentence'), '2 keys are absent (A, B) — run keyrack set KEY');
  assert.equal(words.untrusted('/p/.keyrack', 'hint'), '.keyrack is untrusted — run keyrack allow');
  assert.equal(words.untrusted('/p/.keyrack', 'sentence'), '/p/.keyrack is untrusted — run keyrack allow');
  assert.equal(words.changed('/p/.keyrack', 'hint'), '.keyrack changed since it was allowed — run keyrack allow to trust it again');
  assert.equal(words.denied('/p/.keyrack', 'hint'), '.keyrack is denied — run keyrack allow to use it');
  assert.equal(words.denied('/p/.keyrack', 'sentence'), '/p/.keyrack is denied — run keyrack allow to use it');
});

test('an absent key named like a registered one: did you mean', () => {
  const near = new Map([['GITHUB_TOKN', 'GITHUB_TOKEN']]);
  assert.equal(words.absent(['GITHUB_TOKN'], 'hint', near), 'GITHUB_TOKN absent — did you mean GITHUB_TOKEN? If not, run keyrack set GITHUB_TOKN');
  assert.equal(words.absent(['A', 'GITHUB_TOKN'], 'sentence', near),
    '2 keys are absent (A, GITHUB_TOKN) — run keyrack set KEY; did you mean GITHUB_TOKEN for GITHUB_TOKN?');
});

test('export lists every hint (locked, absent, problems); untrusted says only that', () => {
  assert.deepEqual(notices(scope({ locked: ['A'], absent: ['B'], problems: ['X is set by both'] }), null),
    ['A locked — run keyrack unlock', 'B absent — run keyrack set B', 'X is set by both']);
  assert.deepEqual(notices(scope({ trust: 'untrusted', locked: ['A'] }), null), ['.keyrack is untrusted — run keyrack allow']);
  assert.deepEqual(notices(scope({ trust: 'changed', locked: ['A'] }), null), ['.keyrack changed since it was allowed — run keyrack allow to trust it again']);
  assert.deepEqual(notices(null, '/p/.keyrack:3: bad'), ['/p/.keyrack:3: bad']);
  assert.deepEqual(notices(scope({}), null), []);
});

test('exec stops at the first thing in the way, as a UserError (exit 2); a ready scope passes', () => {
  const why = (s: Scope, byKeys = false): string => {
    try {
      assertReady(s, byKeys, { PWD: '/p' });
    } catch (e) {
      assert.ok(e instanceof UserError);
      return e.message;
    }
    return assert.fail('expected a UserError');
  };
  assert.match(why(scope({ manifest: null, trust: null })), /^no \.keyrack in .* or above — name keys with --key K$/);
  assert.equal(why(scope({ trust: 'denied' })), '/p/.keyrack is denied — run keyrack allow to use it');
  assert.equal(why(scope({ locked: ['A'], absent: ['B'] })), 'B is absent — run keyrack set B', 'absent before locked');
  assert.equal(why(scope({ trust: 'changed' })), '/p/.keyrack changed since it was allowed — run keyrack allow to trust it again');
  assert.equal(why(scope({ manifest: null, trust: null, locked: ['A'] }), true), 'A is locked — run keyrack unlock', '--key: no manifest needed');
  assert.doesNotThrow(() => assertReady(scope({}), false, {}));
});
