/**
 * Limits as clear errors at the door (issue 17): a value over 32 KiB is refused by
 * `set`, `import` and a vault at unlock, naming the key and the limit, and an
 * oversized os.direct value already on disk never reaches the shell; unlock of
 * more keys than one daemon request carries is split, so no internal protocol
 * message reaches the user.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyrack, sandbox } from '../helpers.ts';
import { files } from '../../src/paths.ts';

const PASS = 'limits test passphrase';
const sb = sandbox();
after(() => sb.cleanup());

const LIMIT = 32 * 1024;
const kr = (args: string[], input = '', cwd?: string) => keyrack(args, { env: cwd ? { ...sb.env, PWD: cwd } : sb.env, input, cwd });
const registry = (): Record<string, unknown> => {
  try {
    return (JSON.parse(readFileSync(files.registry(sb.env), 'utf8')) as { keys: Record<string, unknown> }).keys;
  } catch {
    return {};
  }
};

const ready = (async () => {
  const r = await kr(['init'], `${PASS}\n`);
  assert.equal(r.code, 0, r.stderr);
})();

test('set refuses a value over 32 KiB in os.direct and os.secure, naming the key and the limit; at the limit is fine', async () => {
  await ready;
  for (const vault of ['os.direct', 'os.secure']) {
    const big = 'x'.repeat(LIMIT + 1);
    const r = await kr(['set', 'BIG', '--vault', vault], big);
    assert.equal(r.code, 2, `${vault}: ${r.stderr}`);
    assert.match(r.stderr, /BIG: its value is 32\.0 KiB, over keyrack's limit of 32 KiB per value/);
    assert.match(r.stderr, /nothing stored/);
    assert.ok(!r.stderr.includes('xxxx'), 'the value is never quoted');
    assert.equal(registry().BIG, undefined, `${vault}: nothing stored`);

    // Multi-byte text counts in bytes: 11,000 × 3 bytes is over the limit.
    const wide = await kr(['set', 'WIDE', '--vault', vault], '€'.repeat(11_000));
    assert.equal(wide.code, 2, wide.stderr);
    assert.match(wide.stderr, /WIDE: its value is 32\.2 KiB/);

    const edge = await kr(['set', `EDGE_${vault.replace('.', '_')}`, '--vault', vault], 'y'.repeat(LIMIT));
    assert.equal(edge.code, 0, edge.stderr);
  }
});

test('import refuses a file with one oversized value, all or nothing', async () => {
  await ready;
  const r = await kr(['import', '-', '--vault', 'os.direct'], `SMALL_ONE=fine\nHUGE=${'z'.repeat(1024 * 1024)}\n`);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /HUGE: its value is 1\.0 MiB, over keyrack's limit of 32 KiB per value/);
  assert.equal(registry().SMALL_ONE, undefined, 'nothing imported');
  assert.equal(registry().HUGE, undefined);
});

test('a vault returning an oversized value at unlock: refused with the key and the limit, the other keys unlocked', async () => {
  await ready;
  // cmd prints 40,000 bytes; its argv holds no secret, only a generator.
  let r = await kr(['set', 'GROWN', '--vault', 'cmd', '--', 'sh', '-c', 'head -c 40000 /dev/zero | tr "\\0" q']);
  assert.equal(r.code, 0, r.stderr);
  r = await kr(['set', 'NORMAL', '--vault', 'cmd', '--', 'printf', 'ok']);
  assert.equal(r.code, 0, r.stderr);
  r = await kr(['unlock', 'GROWN', 'NORMAL']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /GROWN: its value is 39\.1 KiB, over keyrack's limit of 32 KiB per value .* not unlocked/);
  assert.match(r.stderr, /unlocked 1 key/);
  assert.ok(!r.stderr.includes('qqqq'), 'the value is never quoted');
  assert.ok(!/daemon/.test(r.stderr), `no daemon message reaches the user: ${r.stderr}`);
  const got = await kr(['get', 'NORMAL']);
  assert.equal(got.stdout, 'ok\n');
  assert.equal((await kr(['get', 'GROWN'])).code, 2, 'GROWN stays locked');
});

test('an oversized os.direct value already on disk is not exported (it would break every command the shell runs)', async () => {
  await ready;
  const p = join(sb.dir, 'proj');
  mkdirSync(p);
  let r = await kr(['set', 'D_SMALL', '--vault', 'os.direct'], 'small');
  assert.equal(r.code, 0, r.stderr);
  // Stored by an older keyrack, or by hand.
  const path = files.directVault(sb.env);
  const f = JSON.parse(readFileSync(path, 'utf8')) as { values: Record<string, string> };
  f.values.D_BIG = 'w'.repeat(200 * 1024);
  writeFileSync(path, JSON.stringify(f));
  const reg = JSON.parse(readFileSync(files.registry(sb.env), 'utf8')) as { keys: Record<string, unknown> };
  reg.keys.D_BIG = { vault: 'os.direct' };
  writeFileSync(files.registry(sb.env), JSON.stringify(reg));
  writeFileSync(join(p, '.keyrack'), 'D_SMALL\nD_BIG\n');
  r = await kr(['allow', p]);
  assert.equal(r.code, 0, r.stderr);
  r = await kr(['export', 'json'], '', p);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { set: Record<string, string> };
  assert.deepEqual(Object.keys(out.set), ['D_SMALL']);
  assert.match(r.stderr, /D_BIG: its value is 200\.0 KiB, over keyrack's limit of 32 KiB per value/);
  assert.ok(!r.stderr.includes('wwww'));
});

test('unlock --all of 1,500 os.secure keys is split into requests the daemon takes; get and lock of them all work', async () => {
  await ready;
  const n = 1500;
  const lines = Array.from({ length: n }, (_, i) => `MANY_${i}=value-${i}`).join('\n');
  let r = await kr(['import', '-'], `${lines}\n`);
  assert.equal(r.code, 0, r.stderr);
  r = await kr(['unlock', '--all'], `${PASS}\n`);
  // GROWN (from the test above) is refused; everything else is unlocked.
  assert.match(r.stderr, /unlocked \d+ keys/);
  assert.ok(!/keys must be|daemon/.test(r.stderr), `no protocol message: ${r.stderr}`);
  const last = await kr(['get', `MANY_${n - 1}`]);
  assert.equal(last.stdout, `value-${n - 1}\n`, last.stderr);
  const names = Array.from({ length: n }, (_, i) => `MANY_${i}`);
  r = await kr(['lock', ...names]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`locked ${n} keys`));
  assert.equal((await kr(['get', 'MANY_0'])).code, 2, 'locked');
});
