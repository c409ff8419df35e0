/**
 * Real gpg keys for the pass tests, generated in a sandbox's own GNUPGHOME
 * (never the machine's): without a passphrase, or with one and a pinentry
 * program of the test's choosing (one that fails, one that hangs).
 */
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './helpers.ts';

export interface GpgKey {
  fpr: string;
  /** The long key ID of its encryption subkey (what gpg's ENC_TO names). */
  subkey: string;
}

/** A key in `gnupghome` (created 0700 when missing); `passphrase` undefined: none. */
export async function makeKey(gnupghome: string, uid: string, passphrase?: string): Promise<GpgKey> {
  mkdirSync(gnupghome, { recursive: true, mode: 0o700 });
  const env = { ...process.env, GNUPGHOME: gnupghome };
  const args = ['--batch', '--pinentry-mode', 'loopback', '--passphrase', passphrase ?? '', '--quick-gen-key', uid, 'default', 'default', 'never'];
  const g = await run('gpg', args, { env });
  assert.equal(g.code, 0, g.stderr);
  const l = await run('gpg', ['--batch', '--with-colons', '--list-keys', uid], { env });
  const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(l.stdout)?.[1];
  const subkey = /^sub:[^:]*:[^:]*:[^:]*:([0-9A-F]{16}):/m.exec(l.stdout)?.[1];
  assert.ok(fpr && subkey, l.stdout);
  return { fpr, subkey };
}

/** Points gpg-agent at a pinentry that fails, or hangs (and restarts the agent). */
export async function usePinentry(gnupghome: string, kind: 'fails' | 'hangs'): Promise<void> {
  const p = join(gnupghome, `pinentry-${kind}`);
  writeFileSync(p, kind === 'fails' ? '#!/bin/sh\nexit 1\n' : '#!/bin/sh\nexec sleep 1000\n');
  chmodSync(p, 0o755);
  appendFileSync(join(gnupghome, 'gpg-agent.conf'), `pinentry-program ${p}\n`);
  await killAgent(gnupghome);
}

export async function killAgent(gnupghome: string): Promise<void> {
  await run('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: gnupghome } });
}

/** Imports `from`'s public key into `to`, trusted, so `pass init` may encrypt to it. */
export async function importPublic(from: string, to: string, key: GpgKey): Promise<void> {
  const pub = await run('gpg', ['--batch', '--armor', '--export', key.fpr], { env: { ...process.env, GNUPGHOME: from } });
  const env = { ...process.env, GNUPGHOME: to };
  assert.equal((await run('gpg', ['--batch', '--import'], { env, input: pub.stdout })).code, 0);
  assert.equal((await run('gpg', ['--batch', '--import-ownertrust'], { env, input: `${key.fpr}:6:\n` })).code, 0);
}
