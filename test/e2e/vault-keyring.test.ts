/**
 * The keyring vault against a real gnome-keyring-daemon on a dbus-run-session
 * bus, read and written with the real secret-tool: set stores a value into the
 * keyring (stdin, never argv) or refers to an item that exists; the round trip
 * (unlock, a real bash hook, exec); rm deletes only items keyrack stored; and the
 * failures each say their own thing: absent, locked, no bus, no Secret Service,
 * secret-tool missing, a Secret Service that never answers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyrack, requireTool, run, sandbox, type Sandbox } from '../helpers.ts';
import { startKeyring, type KeyringSession } from '../keyring-session.ts';
import { roundTrip } from '../vault-roundtrip.ts';

const HAVE = [requireTool('secret-tool'), requireTool('gnome-keyring-daemon'), requireTool('dbus-run-session'), requireTool('dbus-send')].every(Boolean);

describe('keyring vault (real gnome-keyring-daemon and secret-tool)', { skip: !HAVE }, () => {
  let sb: Sandbox;
  let ring: KeyringSession;
  const kr = (args: string[], input = '', env = ring.env) => keyrack(args, { env, input });
  const tool = (args: string[], input?: string) => run('secret-tool', args, { env: ring.env, input });
  const reg = () => (JSON.parse(readFileSync(join(sb.env.XDG_CONFIG_HOME!, 'keyrack', 'registry.json'), 'utf8')) as { keys: Record<string, unknown> }).keys;
  const STORED = 'ring-secret "q" $x ✓\nsecond line';
  const THEIRS = 'an item the user made';

  before(async () => {
    sb = sandbox();
    ring = await startKeyring(sb);
  });
  after(async () => {
    await ring.close();
    sb.cleanup();
  });

  test('set with a value stores it in the keyring; without one it refers to an existing item; round trip', async () => {
    let r = await kr(['set', 'RING', '--vault', 'keyring'], `${STORED}\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /stored RING in keyring \(service=keyrack,key=RING\)/);
    assert.deepEqual(reg().RING, { vault: 'keyring', ref: 'service=keyrack,key=RING', stored: true });
    // The real keyring holds it, under those attributes.
    assert.equal((await tool(['lookup', 'service', 'keyrack', 'key', 'RING'])).stdout, STORED);
    assert.equal((await tool(['store', '--label=mine', '--', 'service', 'github', 'user', '-me'], THEIRS)).code, 0);
    r = await kr(['set', 'THEIRS', '--vault', 'keyring', '--ref', 'service=github,user=-me']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /THEIRS refers to an item in keyring \(service=github,user=-me\)/);
    assert.deepEqual(reg().THEIRS, { vault: 'keyring', ref: 'service=github,user=-me' });
    // The hook and exec read the daemon only: they run without the D-Bus address.
    await roundTrip(sb, { RING: STORED, THEIRS }, ring.env);
  });

  test('--store needs a value; a bad reference is refused before any value is read', async () => {
    let r = await kr(['set', 'X', '--vault', 'keyring', '--store']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--store needs a value on stdin — nothing stored/);
    r = await kr(['set', 'X', '--vault', 'keyring']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--vault keyring needs --ref attr=value\[,attr=value\] \(an existing item\), or a value to store/);
    for (const [ref, re] of [['service', /each part must be attr=value/], ['a=1,a=2', /names attribute "a" twice/], ['a=', /neither empty/]] as const) {
      r = await kr(['set', 'X', '--vault', 'keyring', '--ref', ref], 'v');
      assert.equal(r.code, 2, ref);
      assert.match(r.stderr, re);
    }
    assert.equal(reg().X, undefined);
  });

  test('absent and locked are told apart; a locked keyring refuses a store too', async () => {
    assert.equal((await kr(['set', 'GONE', '--vault', 'keyring', '--ref', 'service=nothing-here'])).code, 0);
    let r = await kr(['unlock', 'GONE']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /GONE: keyring \(service=nothing-here\): no item with these attributes in the keyring; store one with keyrack set GONE --vault keyring --ref service=nothing-here --store/);
    const lock = await run('dbus-send', ['--session', '--print-reply', '--dest=org.freedesktop.secrets', '/org/freedesktop/secrets',
      'org.freedesktop.Secret.Service.Lock', 'array:objpath:/org/freedesktop/secrets/collection/login'], { env: ring.env });
    assert.equal(lock.code, 0, lock.stderr);
    try {
      assert.equal((await kr(['lock'])).code, 0); // unlock leaves a held key as it is
      r = await kr(['unlock', 'RING']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /RING: keyring \(service=keyrack,key=RING\): the keyring holding it is locked; unlock it/);
      r = await kr(['set', 'NEW', '--vault', 'keyring'], 'v');
      assert.equal(r.code, 2);
      assert.match(r.stderr, /keyring: the default keyring is locked; unlock it .* nothing stored/);
      assert.equal(reg().NEW, undefined);
    } finally {
      // Unlock again for the tests after this one.
      await ring.close();
      ring = await startKeyring(sb);
    }
    r = await kr(['unlock', 'RING']);
    assert.equal(r.code, 0, r.stderr);
  });

  test('no session bus, no Secret Service on the bus, no secret-tool: each says what to do', async () => {
    const noBus = { ...sb.env };
    delete noBus.DBUS_SESSION_BUS_ADDRESS;
    delete noBus.DISPLAY;
    assert.equal((await kr(['lock'])).code, 0); // unlock leaves a held key as it is
    let r = await kr(['unlock', 'RING', 'THEIRS'], '', noBus);
    assert.equal(r.code, 2);
    for (const k of ['RING', 'THEIRS']) {
      assert.match(r.stderr, new RegExp(`${k}: keyring: no D-Bus session bus \\(DBUS_SESSION_BUS_ADDRESS is unset or dead\\), so no Secret Service can be reached`));
    }
    const bare = await startKeyring(sb, 'bare');
    try {
      r = await kr(['unlock', 'RING'], '', bare.env);
      assert.match(r.stderr, /RING: keyring: no Secret Service is running: start gnome-keyring-daemon, or turn on Secret Service integration in KeePassXC or KWallet/);
      const d = await kr(['doctor'], '', bare.env);
      assert.match(d.stdout, /^FAIL {2}keyring: no Secret Service is running/m);
    } finally {
      await bare.close();
    }
    const empty = join(sb.dir, 'empty-path');
    mkdirSync(empty, { recursive: true });
    r = await kr(['unlock', 'RING'], '', { ...ring.env, PATH: empty });
    assert.match(r.stderr, /RING: keyring: secret-tool is not installed — apt-get install libsecret-tools/);
    const d = await kr(['doctor']);
    assert.match(d.stdout, /^ok {4}keyring: .*secret-tool; a Secret Service answers on the session bus$/m);
  });

  test('a Secret Service that never answers: secret-tool is killed at KEYRACK_KEYRING_TIMEOUT', async () => {
    assert.equal((await kr(['lock'])).code, 0); // unlock leaves a held key as it is
    process.kill(ring.daemonPid!, 'SIGSTOP');
    try {
      const r = await kr(['unlock', 'RING'], '', { ...ring.env, KEYRACK_KEYRING_TIMEOUT: '1' });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /RING: keyring \(service=keyrack,key=RING\): secret-tool timed out after 1s \(killed\); is the keyring waiting for you to unlock it\?/);
    } finally {
      process.kill(ring.daemonPid!, 'SIGCONT');
    }
  });

  test('rm deletes an item keyrack stored, never one the user made; moving a stored key deletes its item', async () => {
    let r = await kr(['rm', 'THEIRS']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await tool(['lookup', '--', 'service', 'github', 'user', '-me'])).stdout, THEIRS, 'the user\'s own item is kept');
    r = await kr(['rm', 'RING']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await tool(['lookup', 'service', 'keyrack', 'key', 'RING'])).code, 1, 'the stored item is gone');
    assert.equal((await kr(['set', 'MOVE', '--vault', 'keyring'], 'moving')).code, 0);
    // Out of the keyring into plaintext: a downgrade, refused without its flag.
    r = await kr(['set', 'MOVE', '--vault', 'os.direct'], 'now direct');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /add --downgrade/);
    r = await kr(['set', 'MOVE', '--vault', 'os.direct', '--downgrade'], 'now direct');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await tool(['lookup', 'service', 'keyrack', 'key', 'MOVE'])).code, 1, 'the old keyring item is gone');
  });
});
