/**
 * `keyrack lock` through keyrack-fast (issue 17): the daemon drops every key and
 * words the answer as the CLI does (src/daemon/lock-words.ts); keyrack-fast relays
 * it. Named keys, options, bad names and no daemon go to the Node CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { sandbox, keyrack, run, ROOT, KEYRACK } from '../helpers.ts';

const FAST = join(ROOT, 'native', 'build', 'Release', 'keyrack-fast');

test('keyrack-fast lock answers as keyrack lock does, from the daemon', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const ok = async (args: string[], input = '') => {
    const r = await keyrack(args, { env: sb.env, input });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  };
  await ok(['init'], 'pw\n');
  for (const k of ['L1', 'L2', 'L3', 'L4']) await ok(['set', k], `value-${k}`);
  await ok(['unlock', 'L1', 'L2', 'L3', 'L4'], 'pw\n');

  // Named keys go to the Node CLI (it also drops the project's team values of those names).
  const named = await run(FAST, ['/bin/echo', 'HANDED-OVER', 'lock', 'L1', 'NOT_HELD'], { env: sb.env });
  assert.equal(named.stdout, 'HANDED-OVER lock L1 NOT_HELD\n', 'a named lock is handed to the Node CLI');
  const slow = await keyrack(['lock', 'L1', 'L2', 'NOT_HELD'], { env: sb.env });
  assert.deepEqual(slow, { code: 0, stdout: '', stderr: 'keyrack: already locked: NOT_HELD\nkeyrack: locked 2 keys\n' });
  assert.equal((await keyrack(['get', 'L1'], { env: sb.env })).code, 2, 'L1 is locked');
  assert.equal((await keyrack(['get', 'L3'], { env: sb.env })).stdout, 'value-L3\n', 'L3 is not');

  const all = await run(FAST, ['/bin/false', KEYRACK, 'lock'], { env: sb.env });
  assert.deepEqual(all, { code: 0, stdout: '', stderr: 'keyrack: locked 2 keys\n' });

  for (const args of [['lock', '--help'], ['lock', 'bad name']]) {
    const handed = await run(FAST, ['/bin/echo', 'HANDED-OVER', ...args], { env: sb.env });
    assert.equal(handed.stdout, `HANDED-OVER ${args.join(' ')}\n`, `${args.join(' ')}: handed to the Node CLI`);
  }
});
