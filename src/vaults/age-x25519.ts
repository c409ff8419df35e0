/**
 * age's X25519 recipient type (age spec, "The X25519 recipient type") on Node's
 * own crypto, synchronous. A team value has a stanza per teammate: a rekey of 200
 * values to 10 teammates wraps 2000 file keys, where age-encryption's WebCrypto path
 * imports each ephemeral key twice (~1 ms a stanza; this: a quarter of that); and an
 * unlock tries, per value, every stanza before yours, where this identity tries
 * first the position that was yours in the last value (values written together
 * list the recipients in the same order). Both plug into age-encryption's
 * Encrypter and Decrypter (its documented Recipient and Identity interfaces), which
 * still make and check the file key, the header and its MAC, and the payload; the
 * real `age` CLI and age-encryption's own X25519 code agree with them (tests).
 */
import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject } from 'node:crypto';
import { Stanza, type Identity, type Recipient } from 'age-encryption';
import { bech32Bytes } from '../team/recipient.js';

const LABEL = 'age-encryption.org/v1/X25519';

/** DER prefix of a PKCS #8 X25519 private key (RFC 8410), before its 32 bytes. */
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');

const publicKeyRaw = (raw: Uint8Array): KeyObject =>
  createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });

/** An age1… recipient as a public key object (throws on anything else). */
function publicKeyOf(recipient: string): { key: KeyObject; raw: Buffer } {
  const bytes = bech32Bytes(recipient, 'age');
  if (typeof bytes === 'string' || bytes.length !== 32) throw new Error('invalid X25519 recipient');
  const raw = Buffer.from(bytes);
  return { key: publicKeyRaw(raw), raw };
}

/** The shared secret of a private and a public key; a low-order point (an all-zero secret) is refused, as the spec says. */
function sharedSecret(privateKey: KeyObject, publicKey: KeyObject, what: string): Buffer {
  let secret: Buffer;
  try {
    secret = diffieHellman({ privateKey, publicKey }); // OpenSSL itself refuses an all-zero result
  } catch {
    throw new Error(`invalid ${what}: no X25519 shared secret (a low-order point)`);
  }
  if (secret.every((b) => b === 0)) throw new Error(`invalid ${what}: all-zero shared secret`);
  return secret;
}

/** The spec's wrap key: HKDF-SHA-256 of the shared secret, salted with the share and the recipient. */
function wrapKeyOf(secret: Buffer, share: Buffer, recipient: Buffer): Buffer {
  const k = Buffer.from(hkdfSync('sha256', secret, Buffer.concat([share, recipient]), LABEL, 32));
  secret.fill(0);
  return k;
}

/** One X25519 recipient: each wrap draws a fresh ephemeral key, as the spec requires. */
export class X25519Recipient implements Recipient {
  private readonly pub: { key: KeyObject; raw: Buffer };

  constructor(recipient: string) {
    this.pub = publicKeyOf(recipient);
  }

  wrapFileKey(fileKey: Uint8Array): Stanza[] {
    const eph = generateKeyPairSync('x25519');
    const share = Buffer.from(eph.publicKey.export({ format: 'jwk' }).x!, 'base64url');
    const wrapKey = wrapKeyOf(sharedSecret(eph.privateKey, this.pub.key, 'X25519 recipient'), share, this.pub.raw);
    try {
      // The wrap key is used once, so the nonce is all zero (age spec).
      const c = createCipheriv('chacha20-poly1305', wrapKey, Buffer.alloc(12), { authTagLength: 16 });
      const body = Buffer.concat([c.update(fileKey), c.final(), c.getAuthTag()]);
      return [new Stanza(['X25519', share.toString('base64').replace(/=+$/, '')], body)];
    } finally {
      wrapKey.fill(0);
    }
  }
}

const SHARE = /^[A-Za-z0-9+/]{43}$/;

/** One X25519 identity (AGE-SECRET-KEY-1…), for every value of one unlock or rekey. */
export class X25519Identity implements Identity {
  private readonly priv: KeyObject;
  private readonly pub: Buffer;
  /** The stanza position that opened the last file. */
  private hint = 0;

  constructor(identity: string) {
    const bytes = bech32Bytes(identity.toLowerCase(), 'age-secret-key-');
    if (typeof bytes === 'string' || bytes.length !== 32) throw new Error('invalid X25519 identity');
    const der = Buffer.concat([PKCS8_X25519, bytes]);
    try {
      this.priv = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } finally {
      der.fill(0);
      bytes.fill(0);
    }
    this.pub = Buffer.from(createPublicKey(this.priv).export({ format: 'jwk' }).x!, 'base64url');
  }

  /** The file key when one of the X25519 stanzas is ours; null when none is; throws on a malformed one. */
  unwrapFileKey(stanzas: Stanza[]): Uint8Array | null {
    const order = stanzas.map((_, i) => i);
    if (this.hint < stanzas.length) order.unshift(...order.splice(this.hint, 1));
    for (const i of order) {
      const s = stanzas[i]!;
      if (s.args[0] !== 'X25519') continue;
      const arg = s.args[1];
      if (s.args.length !== 2 || arg === undefined || !SHARE.test(arg) || s.body.length !== 32) throw new Error('invalid X25519 stanza');
      const share = Buffer.from(arg, 'base64');
      if (share.toString('base64').replace(/=+$/, '') !== arg) throw new Error('invalid X25519 stanza'); // not canonical
      const wrapKey = wrapKeyOf(sharedSecret(this.priv, publicKeyRaw(share), 'X25519 stanza'), share, this.pub);
      try {
        const d = createDecipheriv('chacha20-poly1305', wrapKey, Buffer.alloc(12), { authTagLength: 16 });
        d.setAuthTag(s.body.subarray(16));
        const fileKey = Buffer.concat([d.update(s.body.subarray(0, 16)), d.final()]);
        this.hint = i;
        return fileKey;
      } catch {
        // Not ours: the tag does not verify under our wrap key.
      } finally {
        wrapKey.fill(0);
      }
    }
    return null;
  }
}
