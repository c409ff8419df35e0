/**
 * The daemon parses the registry once per version of the file (src/filecache.ts):
 * its exports must still follow every change — an in-place edit of the same size
 * within the same second, and a file renamed over it — through the real fast path
 * (keyrack-fast → the daemon's export op).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sandbox, keyrack, run, ROOT, KEYRACK } from '../helpers.ts';
import { files } from '../../src/paths.ts';

const FAST = join(ROOT, 'native', 'build', 'Release', 'keyrack-fast');

test('a daemon export follows the registry through a same-size edit in the same second and a rename over it', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const proj = join(sb.dir, 'proj');
  mkdirSync(proj);
  const kr = async (args: string[], input = '') => {
    const r = await keyrack(args, { env: sb.env, input });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  };
  await kr(['set', 'KA', '--vault', 'os.direct'], 'value-a');
  await kr(['set', 'KB', '--vault', 'os.direct'], 'value-b');
  writeFileSync(join(proj, '.keyrack'), 'KA\nKB\n');
  await kr(['allow', proj]);
  await kr(['daemon', 'start']);
  const env = { ...sb.env, PWD: proj };
  // /bin/false as node: only the daemon can answer.
  const exportJson = async () => {
    const r = await run(FAST, ['/bin/false', KEYRACK, 'export', 'json'], { env, cwd: proj });
    assert.equal(r.code, 0, `the daemon answered: ${r.stderr}`);
    return { set: (JSON.parse(r.stdout) as { set: Record<string, string> }).set, stderr: r.stderr };
  };

  const reg = files.registry(sb.env);
  // Older than the racy window, so the daemon keeps what it parsed.
  const old = new Date(Date.now() - 60_000);
  utimesSync(reg, old, old);
  await sleep(1100);
  assert.deepEqual((await exportJson()).set, { KA: 'value-a', KB: 'value-b' });
  assert.deepEqual((await exportJson()).set, { KA: 'value-a', KB: 'value-b' }, 'the cached registry answers the same');

  // In place, same size, mtime set back: KB is renamed KC.
  const before = statSync(reg, { bigint: true });
  const text = readFileSync(reg, 'utf8');
  writeFileSync(reg, text.replace('"KB"', '"KC"'));
  utimesSync(reg, old, old);
  const after = statSync(reg, { bigint: true });
  assert.equal(after.ino, before.ino);
  assert.equal(after.size, before.size);
  assert.equal(after.mtimeNs, before.mtimeNs, 'only ctime tells');
  const edited = await exportJson();
  assert.deepEqual(edited.set, { KA: 'value-a' });
  assert.match(edited.stderr, /KB absent/);

  // Renamed over, same size and mtime: KB is back.
  await sleep(1100);
  await exportJson();
  const tmp = `${reg}.new`;
  writeFileSync(tmp, text);
  utimesSync(tmp, old, old);
  renameSync(tmp, reg);
  assert.deepEqual((await exportJson()).set, { KA: 'value-a', KB: 'value-b' });
});
