/**
 * A path in a client's refusal is the attacker's to choose (a directory named with
 * escape sequences): it reaches the terminal with its control characters escaped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shownPath } from '../../src/daemon/peer.ts';

test('control characters in a path are shown as escapes, everything else as is', () => {
  assert.equal(shownPath('/run/user/1000/keyrack.3.sock'), '/run/user/1000/keyrack.3.sock');
  assert.equal(shownPath('/tmp/\x1b]0;owned\x07/\x1b[31mred\n\t\r\x7f\x9b'), '/tmp/\\e]0;owned\\x07/\\e[31mred\\n\\t\\r\\x7f\\x9b');
  assert.equal(shownPath('/tmp/ünï 🔑'), '/tmp/ünï 🔑');
});
