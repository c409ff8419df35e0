/**
 * Properties of the daemon's frame decoder (seeded, reproducible): any byte
 * sequence, cut into any chunks and decoded as the daemon's sockets decode it
 * (UTF-8, invalid bytes replaced), yields JSON objects or throws one of its own
 * errors — never anything else — and never holds more than MAX_FRAME; valid
 * frames come back exactly, however they are chunked; parseRequest never throws.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StringDecoder } from 'node:string_decoder';
import fc from 'fast-check';
import { FrameDecoder, MAX_FRAME, encodeFrame, parseRequest } from '../../src/daemon/protocol.ts';

const OWN_ERRORS = new Set(['frame too large', 'frame is not JSON', 'frame is not a JSON object']);

/** Cuts `bytes` at the given (sorted, deduplicated) offsets. */
function cut(bytes: Uint8Array, at: number[]): Buffer[] {
  const offs = [...new Set(at.map((a) => a % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const o of [...offs, bytes.length]) {
    out.push(Buffer.from(bytes.subarray(prev, o)));
    prev = o;
  }
  return out;
}

/** Feeds chunks like a socket with setEncoding('utf8'); returns frames and the error, if any. */
function feed(chunks: Buffer[]): { frames: unknown[]; error?: Error } {
  const sd = new StringDecoder('utf8');
  const dec = new FrameDecoder();
  const frames: unknown[] = [];
  for (const c of chunks) {
    try {
      frames.push(...dec.push(sd.write(c)));
    } catch (e) {
      return { frames, error: e as Error };
    }
    assert.ok(dec.pending <= MAX_FRAME, `holds ${dec.pending} bytes`);
  }
  return { frames };
}

// Bytes with the interesting ones over-represented: newlines, braces, quotes, UTF-8 lead/continuation bytes.
const byte = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 255 }) },
  { weight: 2, arbitrary: fc.constantFrom(0x0a, 0x7b, 0x7d, 0x22, 0x3a, 0x2c, 0x5b, 0x5d, 0x5c) },
  { weight: 1, arbitrary: fc.constantFrom(0xc0, 0xc3, 0xe2, 0xed, 0xf0, 0xf4, 0xf8, 0x80, 0xbf, 0xff) },
);

test('any bytes, any chunking: JSON objects or one of the decoder\'s own errors', () => {
  fc.assert(fc.property(
    fc.uint8Array({ maxLength: 400 }).chain((a) => fc.tuple(fc.constant(a), fc.array(fc.nat(), { maxLength: 12 }))),
    fc.array(byte, { maxLength: 300 }),
    ([random, cuts], biased) => {
      for (const bytes of [random, Uint8Array.from(biased)]) {
        const r = feed(cut(bytes, cuts));
        for (const f of r.frames) assert.ok(typeof f === 'object' && f !== null && !Array.isArray(f));
        if (r.error) assert.ok(OWN_ERRORS.has(r.error.message), r.error.message);
      }
    },
  ), { seed: 20240305, numRuns: 3000 });
});

test('valid frames round-trip exactly, however they are cut', () => {
  const value = fc.oneof(fc.string({ unit: 'binary' }), fc.integer(), fc.boolean(), fc.constant(null));
  const frame = fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), fc.oneof(value, fc.array(value, { maxLength: 4 })), { maxKeys: 5 });
  fc.assert(fc.property(fc.array(frame, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 20 }), (frames, cuts) => {
    const bytes = Buffer.from(frames.map(encodeFrame).join(''), 'utf8');
    const r = feed(cut(bytes, cuts));
    assert.equal(r.error, undefined);
    assert.deepEqual(r.frames, frames.map((f) => JSON.parse(JSON.stringify(f)) as unknown));
  }), { seed: 7, numRuns: 1000 });
});

test('a frame one byte over the cap is refused whether or not its newline came; one at the cap is not', () => {
  const body = (n: number) => `{"k":"${'x'.repeat(n - 8)}"}`; // n bytes
  assert.equal(Buffer.byteLength(body(MAX_FRAME)), MAX_FRAME);
  assert.equal(feed([Buffer.from(body(MAX_FRAME) + '\n')]).frames.length, 1);
  assert.equal(feed([Buffer.from(body(MAX_FRAME + 1) + '\n')]).error?.message, 'frame too large');
  assert.equal(feed([Buffer.from(body(MAX_FRAME + 1))]).error?.message, 'frame too large');
  // Multi-byte characters count as bytes, not as UTF-16 units.
  const wide = `{"k":"${'é'.repeat(MAX_FRAME / 2)}"}`;
  assert.equal(feed([Buffer.from(wide)]).error?.message, 'frame too large');
  // One byte at a time is linear: a million single-byte pushes finish (and then overflow).
  const dec = new FrameDecoder();
  assert.throws(() => { for (let i = 0; i <= MAX_FRAME; i++) dec.push('x'); }, /frame too large/);
  // Nesting deep enough to exhaust a recursive parser is just "not JSON" or an object.
  const deep = feed([Buffer.from('{"a":' + '['.repeat(200_000) + ']'.repeat(200_000) + '}\n')]);
  assert.ok(deep.error === undefined || OWN_ERRORS.has(deep.error.message));
});

test('parseRequest never throws, and its errors never quote a value', () => {
  const anyJson = fc.jsonValue({ maxDepth: 3 });
  // SECRET stands for a value: wherever it sits, no error may repeat it.
  const SECRET = 'S3CR3T-marker';
  const valueish = fc.oneof(anyJson, fc.constant(SECRET), fc.constant(`${SECRET}\u0000`), fc.constant({ value: SECRET }),
    fc.constant({ env: { X: SECRET, 'bad name': SECRET } }), fc.constant({ value: `\ud800${SECRET}` }));
  const req = fc.record({
    id: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(SECRET)),
    op: fc.oneof(fc.constantFrom('ping', 'get', 'put', 'lock', 'status', 'backoff', 'export', 'stop', '__proto__', 'constructor'), fc.string()),
    keys: fc.oneof(valueish, fc.array(fc.string({ maxLength: 130 }), { maxLength: 5 }), fc.dictionary(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/), valueish)),
    ttlMs: valueish, record: valueish, shell: valueish, cwd: valueish, env: fc.oneof(valueish, fc.dictionary(fc.string(), valueish)),
  }, { requiredKeys: [] });
  fc.assert(fc.property(req, (r) => {
    const out = parseRequest(JSON.parse(JSON.stringify(r)) as Record<string, unknown>);
    if ('error' in out) assert.ok(!out.error.includes(SECRET), out.error);
  }), { seed: 99, numRuns: 3000 });
});
