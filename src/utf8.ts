/**
 * Strict UTF-8. keyrack stores and reads only text: a bad byte is refused, never
 * replaced, and a refusal can say where it is without quoting it.
 */

/** The text, or null when `buf` is not valid UTF-8. A leading U+FEFF is kept: it is part of a value. */
export function decodeStrict(buf: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf);
  } catch {
    return null;
  }
}

/** Offset of the first byte that makes `buf` invalid; buf.length when a character is cut short at the end. */
export function firstInvalidUtf8(buf: Uint8Array): number {
  // Fed one byte at a time, a streaming decoder throws exactly at the offending byte.
  const dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  for (let i = 0; i < buf.length; i++) {
    try {
      dec.decode(buf.subarray(i, i + 1), { stream: true });
    } catch {
      return i;
    }
  }
  return buf.length;
}
