/**
 * A tar archive (POSIX ustar, pax `path` records for long names) of regular files,
 * in memory: what a backup holds inside its age encryption, so `age -d FILE | tar -t`
 * lists it with standard tools. The reader takes only what the writer makes —
 * regular files and pax headers, checksums right, sizes in bounds — and reports a
 * bad archive without quoting its bytes.
 */
import { UserError } from './errors.js';

const BLOCK = 512;

export interface TarFile {
  name: string;
  data: Uint8Array;
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number, type: string, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name.slice(0, 100), 0, 'utf8');
  h.write(octal(0o600, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(mtime, 12), 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

const pad = (n: number) => Buffer.alloc((BLOCK - (n % BLOCK)) % BLOCK);

/** One pax record, `LEN path=NAME\n`, where LEN counts itself. */
function paxPath(name: string): Buffer {
  const body = ` path=${name}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + 1;
  while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
  return Buffer.from(`${len}${body}`, 'utf8');
}

/** The archive of `files`, in this order. The caller zeroes it once written. */
export function writeTar(files: readonly TarFile[], mtime = Math.floor(Date.now() / 1000)): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    if (Buffer.byteLength(f.name) > 100) {
      const pax = paxPath(f.name);
      parts.push(header('PaxHeader', pax.length, 'x', mtime), pax, pad(pax.length));
    }
    parts.push(header(f.name, f.data.length, '0', mtime), Buffer.from(f.data), pad(f.data.length));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  const out = Buffer.concat(parts);
  for (const p of parts) p.fill(0);
  return out;
}

function field(h: Buffer, start: number, len: number): string {
  const raw = h.subarray(start, start + len);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul === -1 ? len : nul).toString('utf8');
}

/** The files of an archive writeTar made; `label` names it in errors. */
export function readTar(buf: Uint8Array, label: string): TarFile[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const bad = (why: string) => new UserError(`${label} is not a keyrack backup: ${why}`);
  const out: TarFile[] = [];
  let longName: string | undefined;
  for (let off = 0; ;) {
    if (off + BLOCK > b.length) throw bad('it ends in the middle of the archive');
    const h = b.subarray(off, off + BLOCK);
    if (h.every((x) => x === 0)) return out;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (parseInt(field(h, 148, 8).trim(), 8) !== sum) throw bad(`a header at byte ${off} has a wrong checksum`);
    const size = parseInt(field(h, 124, 12).trim() || '0', 8);
    if (!Number.isSafeInteger(size) || size < 0 || off + BLOCK + size > b.length) throw bad(`a header at byte ${off} gives a size past the end`);
    const data = b.subarray(off + BLOCK, off + BLOCK + size);
    const type = String.fromCharCode(h[156]!);
    off += BLOCK + size + ((BLOCK - (size % BLOCK)) % BLOCK);
    if (type === 'x') {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      if (!m) throw bad('a pax header without a path');
      longName = m[1];
      continue;
    }
    if (type !== '0' && type !== '\0') throw bad('it holds something other than regular files');
    const prefix = field(h, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
    longName = undefined;
    out.push({ name, data: Uint8Array.from(data) });
  }
}
