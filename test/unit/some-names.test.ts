/** someNames: a line of key names stays short however many keys there are. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { someNames } from '../../src/say.ts';

test('all names up to one past the limit; beyond it the first ones and how many more', () => {
  const names = Array.from({ length: 10_000 }, (_, i) => `K${i}`);
  assert.equal(someNames(names.slice(0, 9)), 'K0 K1 K2 K3 K4 K5 K6 K7 K8');
  assert.equal(someNames(names.slice(0, 10)), 'K0 K1 K2 K3 K4 K5 K6 K7 … and 2 more');
  assert.equal(someNames(names), 'K0 K1 K2 K3 K4 K5 K6 K7 … and 9,992 more');
  assert.equal(someNames(names.slice(0, 7), 6), 'K0 K1 K2 K3 K4 K5 K6');
  assert.equal(someNames([]), '');
});
