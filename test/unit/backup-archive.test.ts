/**
 * The archive inside a backup (src/tar.ts, src/backup.ts): what writeTar makes,
 * GNU tar lists (a long key name too, through a pax record) and readTar reads back
 * byte-exact; an archive with a wrong checksum, a link, a file keyrack never writes,
 * a duplicate or a version it does not know is refused, naming no content.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { UserError } from '../../src/errors.ts';
import { parseBackup } from '../../src/backup.ts';
import { readTar, writeTar, type TarFile } from '../../src/tar.ts';
import { requireTool } from '../tools.ts';
import { tempEnv } from './fixture.ts';

const LONG = `K${'x'.repeat(127)}`; // the longest key name: past ustar's 100 bytes with its path
const files = (): TarFile[] => [
  { name: 'keyrack-backup/BACKUP', data: Buffer.from('{"keyrack":"backup","version":1}\n') },
  { name: 'keyrack-backup/registry.json', data: Buffer.from(JSON.stringify({ version: 1, keys: { [LONG]: { vault: 'os.secure' }, D: { vault: 'os.direct' } } })) },
  { name: 'keyrack-backup/secure/identity.age', data: Buffer.from('age-encryption.org/v1\n…') },
  { name: 'keyrack-backup/secure/recipient.txt', data: Buffer.from('age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq\n') },
  { name: `keyrack-backup/secure/keys/${LONG}.age`, data: Uint8Array.from([0, 1, 2, 255, 10, 13]) },
  { name: 'keyrack-backup/direct.json', data: Buffer.from('{"version":1,"values":{"D":"v\\n"}}') },
];

test('writeTar → readTar is byte-exact, long names included; GNU tar lists the same names', (t) => {
  const tar = writeTar(files());
  assert.equal(tar.length % 512, 0);
  const back = readTar(tar, 'x');
  assert.deepEqual(back.map((f) => [f.name, Buffer.from(f.data).toString('hex')]), files().map((f) => [f.name, Buffer.from(f.data).toString('hex')]));
  const c = parseBackup(back, 'x');
  assert.deepEqual([...c.keys.keys()], [LONG]);
  assert.deepEqual(Object.keys(c.registry.keys), [LONG, 'D']);
  if (!requireTool('tar')) return t.skip('tar missing');
  const env = tempEnv();
  try {
    const file = join(env.dir, 'b.tar');
    writeFileSync(file, tar);
    const list = spawnSync('tar', ['-tf', file], { encoding: 'utf8' });
    assert.equal(list.status, 0, list.stderr);
    assert.deepEqual(list.stdout.trim().split('\n'), files().map((f) => f.name));
  } finally {
    env.cleanup();
  }
});

test('what keyrack never writes is refused, with a reason and none of the content', () => {
  const refused = (tar: Buffer | TarFile[], why: RegExp) => {
    const secret = 'v\\n';
    try {
      parseBackup(Array.isArray(tar) ? tar : readTar(tar, 'b.age'), 'b.age');
    } catch (e) {
      assert.ok(e instanceof UserError);
      assert.match(e.message, why);
      assert.ok(!e.message.includes(secret));
      return;
    }
    assert.fail(`accepted; expected ${why}`);
  };
  const good = writeTar(files());
  const flipped = Buffer.from(good);
  flipped[1024 + 10]! ^= 1; // inside the second header (the first file's data fills one block)
  refused(flipped, /wrong checksum/);
  refused(good.subarray(0, 700), /ends in the middle/);
  const link = Buffer.from(good);
  link[156] = 0x32; // '2': a symlink
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : link[i]!;
  link.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  refused(link, /other than regular files/);
  refused([...files(), { name: 'keyrack-backup/../../.bashrc', data: Buffer.from('x') }], /a file keyrack never puts in one/);
  refused([...files(), { name: 'keyrack-backup/secure/keys/bad name.age', data: Buffer.from('x') }], /a file keyrack never puts in one/);
  refused([...files(), files()[1]!], /a file twice/);
  refused(files().map((f) => (f.name.endsWith('BACKUP') ? { ...f, data: Buffer.from('{"keyrack":"backup","version":2}') } : f)), /version 2/);
  refused(files().filter((f) => !f.name.endsWith('identity.age')), /secure\/identity\.age is missing/);
  refused(files().map((f) => (f.name.endsWith('direct.json') ? { ...f, data: Buffer.from('{"version":1,"values":{"D":v\\n') } : f)), /direct\.json does not parse/);
});
