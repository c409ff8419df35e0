/**
 * keyrack's X25519 recipient and identity (src/vaults/age-x25519.ts) against
 * age-encryption's own: each opens what the other wrapped, a stranger's identity
 * opens nothing, every wrap draws a fresh ephemeral key, and a malformed stanza is
 * an error, not a silent miss. (The real age CLI agrees: test/e2e/team-age.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Decrypter, Encrypter, Stanza, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { X25519Identity, X25519Recipient } from '../../src/vaults/age-x25519.ts';

const ids = await Promise.all(Array.from({ length: 4 }, () => generateX25519Identity()));
const recips = await Promise.all(ids.map((i) => identityToRecipient(i)));
const text = 'a value é 🔑\n';

test('what our recipient wraps, age-encryption\'s own identity opens — for every recipient', async () => {
  const enc = new Encrypter();
  for (const r of recips) enc.addRecipient(new X25519Recipient(r));
  const file = await enc.encrypt(text);
  for (const id of ids) {
    const d = new Decrypter();
    d.addIdentity(id);
    assert.equal(await d.decrypt(file, 'text'), text);
  }
});

test('what age-encryption\'s own recipient wraps, our identity opens, wherever its stanza stands', async () => {
  const enc = new Encrypter();
  for (const r of recips) enc.addRecipient(r);
  const files = await Promise.all([0, 1, 2].map(() => enc.encrypt(text)));
  // One identity for several files (its hint moves), at each position.
  for (const id of ids) {
    const d = new Decrypter();
    d.addIdentity(new X25519Identity(id));
    for (const f of files) assert.equal(await d.decrypt(f, 'text'), text);
  }
  // Files whose recipients come in different orders: the hint is only a first try.
  const mine = new X25519Identity(ids[2]!);
  const d = new Decrypter();
  d.addIdentity(mine);
  for (const order of [[2, 0, 1], [0, 1, 2], [1, 2, 0]]) {
    const e = new Encrypter();
    for (const i of order) e.addRecipient(recips[i]!);
    assert.equal(await d.decrypt(await e.encrypt(text), 'text'), text);
  }
});

test('a stranger opens nothing: our identity says null, not an error', async () => {
  const enc = new Encrypter();
  enc.addRecipient(new X25519Recipient(recips[0]!));
  const file = await enc.encrypt(text);
  const stranger = new X25519Identity(ids[3]!);
  const stanzas = new X25519Recipient(recips[0]!).wrapFileKey(randomBytes(16));
  assert.equal(stranger.unwrapFileKey(stanzas), null);
  const d = new Decrypter();
  d.addIdentity(stranger);
  await assert.rejects(d.decrypt(file), /no identity matched/);
});

test('each wrap has its own ephemeral share, and the file key comes back exactly', () => {
  const fileKey = randomBytes(16);
  const r = new X25519Recipient(recips[1]!);
  const a = r.wrapFileKey(fileKey)[0]!;
  const b = r.wrapFileKey(fileKey)[0]!;
  assert.equal(a.args[0], 'X25519');
  assert.match(a.args[1]!, /^[A-Za-z0-9+/]{43}$/, 'unpadded base64 of 32 bytes');
  assert.notEqual(a.args[1], b.args[1]);
  assert.notDeepEqual(a.body, b.body);
  assert.equal(a.body.length, 32);
  assert.deepEqual(Buffer.from(new X25519Identity(ids[1]!).unwrapFileKey([a])!), fileKey);
});

test('a malformed X25519 stanza is an error; other stanza types are passed over', () => {
  const id = new X25519Identity(ids[0]!);
  const good = new X25519Recipient(recips[0]!).wrapFileKey(randomBytes(16))[0]!;
  const zeroShare = Buffer.alloc(32).toString('base64').replace(/=+$/, '');
  for (const bad of [
    new Stanza(['X25519'], good.body),
    new Stanza(['X25519', good.args[1]!, 'extra'], good.body),
    new Stanza(['X25519', `${good.args[1]!}=`], good.body),
    new Stanza(['X25519', good.args[1]!], good.body.subarray(0, 31)),
    new Stanza(['X25519', zeroShare], good.body), // a low-order point: all-zero shared secret
  ]) {
    assert.throws(() => id.unwrapFileKey([bad]), /Error: invalid X25519 stanza/, bad.args.join(' '));
  }
  assert.equal(id.unwrapFileKey([new Stanza(['scrypt', 'salt', '18'], good.body)]), null);
  assert.throws(() => new X25519Recipient('age1notarecipient'), /invalid X25519 recipient/);
  assert.throws(() => new X25519Identity('AGE-SECRET-KEY-1NOTANIDENTITY'), /invalid X25519 identity/);
});
