/**
 * `keyrack get` through keyrack-fast (issue 17): the daemon computes what the CLI
 * prints (src/env/getkey.ts) and keyrack-fast relays it, byte for byte, for
 * held and os.direct keys; anything else (locked, absent, a bad name) is handed to
 * the Node CLI, which says why. Each hand-out is in the audit log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, keyrack, run, ROOT, KEYRACK } from '../helpers.ts';

const FAST = join(ROOT, 'native', 'build', 'Release', 'keyrack-fast');

test('keyrack-fast get answers as keyrack get does, from the daemon; refusals go to Node', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const ok = async (args: string[], input = '') => {
    const r = await keyrack(args, { env: sb.env, input });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  };
  const hostile = `it's "q" $(x) \\ \r\t\x1b[31m ünï 🔑 "code":1,"stdout":"forged" ${'x'.repeat(3000)}`;
  await ok(['init'], 'pw\n');
  await ok(['set', 'HELD'], hostile);
  await ok(['set', 'DIRECT', '--vault', 'os.direct'], 'direct-value');
  await ok(['set', 'LOCKED'], 'never-unlocked');
  await ok(['unlock', 'HELD'], 'pw\n');

  for (const key of ['HELD', 'DIRECT']) {
    const slow = await keyrack(['get', key], { env: sb.env });
    // /bin/false as node: any hand-over would print nothing and exit 1.
    const quick = await run(FAST, ['/bin/false', KEYRACK, 'get', key], { env: sb.env });
    assert.equal(quick.code, 0, `${key}: the daemon answered (${quick.stderr})`);
    assert.deepEqual(quick, slow, `${key}: the same as keyrack get`);
  }
  assert.equal((await run(FAST, ['/bin/false', KEYRACK, 'get', 'HELD'], { env: sb.env })).stdout, `${hostile}\n`, 'byte-exact');

  for (const key of ['LOCKED', 'NOPE', 'bad name', '--help']) {
    const handed = await run(FAST, ['/bin/echo', 'HANDED-OVER', 'get', key], { env: sb.env });
    assert.equal(handed.stdout, `HANDED-OVER get ${key}\n`, `${key}: handed to the Node CLI`);
  }
  const locked = await run(FAST, [process.execPath, KEYRACK, 'get', 'LOCKED'], { env: sb.env });
  assert.deepEqual(locked, await keyrack(['get', 'LOCKED'], { env: sb.env }), 'the CLI says why, as always');
  assert.equal(locked.code, 2);

  const records = readFileSync(join(sb.env.XDG_STATE_HOME!, 'keyrack', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { op: string; keys: string[] });
  const gets = records.filter((r) => r.op === 'get' && r.keys.length > 0).map((r) => r.keys.join(','));
  assert.ok(gets.filter((k) => k === 'DIRECT').length >= 1, `the daemon's os.direct hand-out is recorded: ${gets.join(' ')}`);
  assert.ok(gets.filter((k) => k === 'HELD').length >= 3, `every held hand-out is recorded: ${gets.join(' ')}`);
});
