/**
 * Without the native build there is no masker (one implementation, in C): an
 * explicit `exec --mask` refuses before running anything (exit 2, saying why and
 * what to do); the default off a terminal runs unmasked and says so once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, run, sandbox } from '../helpers.ts';

test('no keyrack-fast: --mask refuses (exit 2, nothing run); the default runs unmasked and says so', async () => {
  const sb = sandbox();
  const copy = mkdtempSync(join(tmpdir(), 'kr-nomask-'));
  try {
    cpSync(join(ROOT, 'dist'), join(copy, 'dist'), { recursive: true });
    assert.ok(!existsSync('/tmp/native'), 'no stray native/ dir the copy could find');
    const bin = join(copy, 'dist', 'keyrack.mjs');
    const proj = join(sb.dir, 'proj');
    mkdirSync(proj);
    const k = (args: string[], input = '') => run(process.execPath, [bin, ...args], { env: { ...sb.env, PWD: proj }, cwd: proj, input });
    assert.equal((await k(['set', 'NM_KEY', '--vault', 'os.direct'], 'nomask-value-1234\n')).code, 0);
    writeFileSync(join(proj, '.keyrack'), 'NM_KEY\n');
    assert.equal((await k(['allow', proj])).code, 0);
    const ran = join(sb.dir, 'ran');

    const refused = await k(['exec', '--mask', '--', 'sh', '-c', `touch ${ran}; echo "$NM_KEY"`]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--mask needs keyrack-fast, the native client .* use --no-mask/);
    assert.equal(existsSync(ran), false, 'nothing ran');
    assert.equal(refused.stdout, '');

    const dflt = await k(['exec', '--', 'sh', '-c', 'echo "$NM_KEY"']);
    assert.equal(dflt.code, 0, dflt.stderr);
    assert.equal(dflt.stdout, 'nomask-value-1234\n', 'unmasked');
    assert.match(dflt.stderr, /output not masked: keyrack-fast \(the native client\) is not built/);
  } finally {
    rmSync(copy, { recursive: true, force: true });
    sb.cleanup();
  }
});
