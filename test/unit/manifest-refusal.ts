/** The ManifestError a manifest's text is refused with (fails the test when it parses). */
import assert from 'node:assert/strict';
import { ManifestError, parseManifest } from '../../src/env/manifest.ts';

export const P = '/p/.keyrack';

export function refusal(content: string): ManifestError {
  try {
    parseManifest(P, content);
  } catch (e) {
    assert.ok(e instanceof ManifestError, `expected a ManifestError, got ${String(e)}`);
    return e;
  }
  assert.fail(`expected ${JSON.stringify(content)} to be refused`);
}
