/**
 * Trust decisions (env/trust.ts) in-process: what allow and deny record, that an
 * edit or a move withdraws the trust, and that each decision wakes the shells.
 * (test/e2e/trust.test.ts drives the same through the CLI.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { allow, deny, trustOf } from '../../src/env/trust.ts';
import { generationPath } from '../../src/paths.ts';
import { tempEnv } from './fixture.ts';

test('allow trusts this path with this content only: an edit or a move withdraws it, one content per path', () => {
  const t = tempEnv();
  try {
    const v1 = { path: '/p/.keyrack', content: 'A\n' };
    const v2 = { path: '/p/.keyrack', content: 'A\nB\n' };
    assert.equal(trustOf(v1, t.env), 'untrusted');
    allow(v1, t.env);
    assert.equal(trustOf(v1, t.env), 'allowed');
    assert.equal(trustOf(v2, t.env), 'changed', 'edited: changed since it was allowed (loads nothing, as untrusted)');
    assert.equal(trustOf({ path: '/q/.keyrack', content: v1.content }, t.env), 'untrusted', 'moved');
    allow(v2, t.env);
    assert.equal(trustOf(v2, t.env), 'allowed');
    assert.equal(trustOf(v1, t.env), 'changed', 'allowing the new content forgets the old');
  } finally {
    t.cleanup();
  }
});

test('deny blocks a path whatever its content until it is allowed again; every decision bumps the generation', () => {
  const t = tempEnv();
  try {
    const m = { path: '/p/.keyrack', content: 'A\n' };
    const gen = () => readFileSync(generationPath(t.env), 'utf8');
    allow(m, t.env);
    const g1 = gen();
    deny(m.path, t.env);
    assert.equal(trustOf(m, t.env), 'denied');
    assert.equal(trustOf({ ...m, content: 'other\n' }, t.env), 'denied');
    const g2 = gen();
    assert.notEqual(g2, g1);
    allow(m, t.env);
    assert.equal(trustOf(m, t.env), 'allowed');
    assert.notEqual(gen(), g2);
  } finally {
    t.cleanup();
  }
});
