/**
 * What may stand on a team file's recipient line: a label a person reads, and an
 * age X25519 recipient (`age1…`, what `keyrack whoami` and `age-keygen -y` print),
 * checked down to its bech32 checksum here, without loading any crypto: the hook's
 * export reads the team file too, and a typo in a recipient must be found where it
 * is written, not at someone's unlock.
 */

/** Labels name teammates in messages and `team rm LABEL`: no spaces, nothing a terminal acts on. */
export const LABEL = /^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$/;

/** Why `label` cannot be a label, or null. Never echoes it: it may be anything. */
export function labelProblem(label: string): string | null {
  if (LABEL.test(label)) return null;
  return `a label is 1 to 64 letters, digits and _ . @ + - (starting with a letter or digit; ${LABEL.source})`;
}

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

/** BIP 173's checksum over the expanded human-readable part and the data. */
function polymod(values: number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i]!;
  }
  return chk;
}

/** The payload bytes of a (lowercase) bech32 string with this human-readable part, or a reason. */
export function bech32Bytes(s: string, hrp: string): Uint8Array | string {
  if (!s.startsWith(`${hrp}1`)) return `it does not start with ${hrp}1`;
  const data: number[] = [];
  for (const c of s.slice(hrp.length + 1)) {
    const v = CHARSET.indexOf(c);
    if (v === -1) return 'it holds a character bech32 does not use (lowercase letters and digits, no 1 b i o)';
    data.push(v);
  }
  if (data.length < 6) return 'it is too short';
  const expanded = [...hrp].map((c) => c.charCodeAt(0) >> 5).concat(0, [...hrp].map((c) => c.charCodeAt(0) & 31));
  if (polymod([...expanded, ...data]) !== 1) return 'its checksum is wrong (a character was mistyped or lost)';
  // 5-bit groups → bytes; leftover bits must be zero padding.
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const v of data.slice(0, -6)) {
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  if (bits >= 5 || (acc & ((1 << bits) - 1)) !== 0) return 'its padding is not zero';
  return Uint8Array.from(out);
}

/**
 * Why `r` is not an age X25519 recipient, or null. Never echoes it. Other age
 * recipient types (ssh keys, post-quantum, plugins) are refused by name: an age
 * 1.1 CLI, Debian's, must be able to read every value.
 */
export function recipientProblem(r: string): string | null {
  if (r.startsWith('ssh-') || r.startsWith('ecdsa-')) return 'an ssh key is not a keyrack recipient: the teammate runs keyrack whoami and sends you its age1… line';
  if (r.startsWith('age1pq1') || r.startsWith('age1tag')) return 'only X25519 recipients (age1…) are supported, not post-quantum or tag ones: Debian\'s age 1.1 could not read the values';
  if (/^age1[a-z0-9]+1/.test(r)) return 'an age plugin recipient is not supported: only X25519 recipients (age1…), as keyrack whoami prints';
  if (r !== r.toLowerCase()) return 'an age recipient is written in lowercase (age1…)';
  const bytes = bech32Bytes(r, 'age');
  if (typeof bytes === 'string') return `not an age recipient: ${bytes}`;
  if (bytes.length !== 32) return `not an X25519 age recipient: it holds ${bytes.length} bytes, not 32`;
  return null;
}
