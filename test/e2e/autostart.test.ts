/**
 * Hooked shells always have a daemon to ask (issue 17): when a hook's export finds
 * none, keyrack-fast answers through Node as before and starts one in the
 * background through `keyrack daemon start` (the checked path unlock uses), so the
 * next export is the daemon's. The started daemon has the whitelisted environment,
 * not the shell's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sandbox, keyrack, run, ROOT, KEYRACK } from '../helpers.ts';
import { DaemonConnection } from '../../src/daemon/client.ts';

const FAST = join(ROOT, 'native', 'build', 'Release', 'keyrack-fast');

test('an export that finds no daemon starts one; the next export is answered by it', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const proj = join(sb.dir, 'proj');
  mkdirSync(proj);
  assert.equal((await keyrack(['set', 'KA', '--vault', 'os.direct'], { env: sb.env, input: 'value-a' })).code, 0);
  writeFileSync(join(proj, '.keyrack'), 'KA\n');
  assert.equal((await keyrack(['allow', proj], { env: sb.env })).code, 0);
  assert.equal(await DaemonConnection.open(sb.env), null, 'no daemon yet');

  const env = { ...sb.env, PWD: proj, SHELL_ONLY_SECRET: 'not-for-the-daemon' };
  const first = await run(FAST, [process.execPath, KEYRACK, 'export', 'json'], { env, cwd: proj });
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual((JSON.parse(first.stdout) as { set: Record<string, string> }).set, { KA: 'value-a' }, 'the first export is answered (by Node)');

  // Wait for the daemon the export started (a condition, not a time limit on it).
  let conn: DaemonConnection | null = null;
  for (let i = 0; i < 300 && !conn; i++) {
    conn = await DaemonConnection.open(sb.env);
    if (!conn) await sleep(50);
  }
  assert.ok(conn, 'keyrack-fast started a daemon');
  const pid = conn.hello.pid;
  conn.close();
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  assert.ok(cmdline.includes('daemon') && cmdline.includes('run'), `started the way startDaemon does: ${cmdline.join(' ')}`);
  const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
  assert.ok(!environ.includes('not-for-the-daemon'), 'the daemon has the whitelisted environment, not the shell\'s');

  // /bin/false as node: only the daemon can answer now.
  const second = await run(FAST, ['/bin/false', KEYRACK, 'export', 'json'], { env, cwd: proj });
  assert.equal(second.code, 0, `the daemon answered: ${second.stderr}`);
  assert.deepEqual((JSON.parse(second.stdout) as { set: Record<string, string> }).set, { KA: 'value-a' });
});
