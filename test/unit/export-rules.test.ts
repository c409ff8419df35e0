/**
 * native/export_rules.h is generated from src/names.ts (HARD_NAMES, HARD_PREFIXES)
 * and src/shells/ (the statements export renders) and committed; keyrack-fast's
 * check of a daemon's answer is only as right as it is current.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { HEADER_PATH, renderExportRules } from '../../scripts/gen-export-rules.ts';
import { HARD_NAMES, HARD_PREFIXES } from '../../src/env/names.ts';

test('native/export_rules.h matches src/names.ts and src/shells/ (else: npm run gen:native)', () => {
  const committed = readFileSync(HEADER_PATH, 'utf8');
  assert.equal(committed, renderExportRules(), 'native/export_rules.h is out of date: run npm run gen:native and rebuild');
  for (const n of HARD_NAMES) assert.ok(committed.includes(`"${n}",`), n);
  for (const p of HARD_PREFIXES) assert.ok(committed.includes(`"${p}",`), p);
});
