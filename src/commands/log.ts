/**
 * `keyrack log [--key K]… [--since D] [--refused] [--follow] [--json]`: the
 * daemon's audit log (src/daemon/audit.ts), oldest first across its rotated files.
 * --json prints the stored lines as they are; the human form is one aligned line
 * per record, refusals standing out. --follow keeps printing new records, across
 * rotations. The filters answer the questions an audit trail is for: who got
 * this key (--key), lately (--since 1d), and who was turned away (--refused).
 * There are no values to print: the log holds key names and who asked.
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertKeyName } from '../env/names.js';
import { files } from '../paths.js';
import { forHumans, printable } from '../printable.js';
import { color, colorEnabled, type Palette } from '../term.js';
import type { AuditRecord } from '../daemon/audit.js';
import { durationFlag } from '../duration.js';

const POLL_MS = 200;

/** audit.log.N … audit.log.1, audit.log: oldest first. */
function logFiles(path: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return [];
  }
  const base = basename(path);
  const rotated = names
    .map((n) => (n.startsWith(`${base}.`) ? Number(n.slice(base.length + 1)) : NaN))
    .filter((n) => Number.isInteger(n) && n > 0)
    .sort((a, b) => b - a)
    .map((n) => `${path}.${n}`);
  return names.includes(base) ? [...rotated, path] : rotated;
}

/** Reads an fd from `pos` to its end; returns the complete lines and the new position. */
function readLines(fd: number, pos: number, carry: { rest: string }): { lines: string[]; pos: number } {
  const buf = Buffer.alloc(64 * 1024);
  let text = carry.rest;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n === 0) break;
    pos += n;
    text += buf.toString('utf8', 0, n);
  }
  const parts = text.split('\n');
  carry.rest = parts.pop() ?? ''; // a line still being written
  return { lines: parts.filter((l) => l !== ''), pos };
}

/** Control characters (a hostile cwd can hold escape sequences) shown as escapes. */
const clean = printable;

function localTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return clean(iso).padEnd(19);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

interface Columns { keys: number; pid: number; session: number; exe: number }

export interface LogFilter {
  /** Records that handed out any of these keys. */
  keys?: string[];
  /** Records from this many ms ago or later. */
  sinceMs?: number;
  /** Refused connections only. */
  refused?: boolean;
}

function matcher(f: LogFilter): ((r: AuditRecord) => boolean) | undefined {
  if (f.keys === undefined && f.sinceMs === undefined && f.refused !== true) return undefined;
  const wanted = f.keys && new Set(f.keys);
  return (r) => {
    if (f.refused === true && r.op !== 'refused' && r.op !== 'suppressed') return false;
    if (wanted && !(r.keys ?? []).some((k) => wanted.has(k))) return false;
    // Evaluated per record, so --follow keeps a moving window honest too.
    if (f.sinceMs !== undefined && !(Date.parse(r.time) >= Date.now() - f.sinceMs)) return false;
    return true;
  };
}

function parseRecord(line: string): AuditRecord | undefined {
  try {
    const r = JSON.parse(line) as AuditRecord;
    return typeof r === 'object' && r !== null && typeof r.op === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

/** exec: the program the client said it ran — marked, as the kernel did not attest it. */
function ran(r: AuditRecord): string {
  const p = r.program;
  if (!p || typeof p !== 'object' || typeof p.argv0 !== 'string') return '';
  const path = typeof p.path === 'string' ? clean(p.path) : '?';
  return `  ran ${path}${typeof p.path === 'string' && p.path.endsWith(`/${p.argv0}`) ? '' : ` as ${clean(p.argv0)}`} (client-reported)`;
}

class Printer {
  private readonly w: Columns = { keys: 4, pid: 3, session: 1, exe: 4 };
  private readonly c: Palette;
  bad = 0;
  /** Records printed so far (after the filter). */
  shown = 0;

  constructor(
    private readonly json: boolean,
    private readonly out: (s: string) => void,
    private readonly keep: ((r: AuditRecord) => boolean) | undefined,
  ) {
    this.c = color(colorEnabled(process.stdout));
  }

  /** Prints a batch, widening the columns to fit it first. */
  print(lines: string[]): void {
    if (this.json && !this.keep) {
      if (lines.length > 0) this.out(lines.join('\n') + '\n');
      this.shown += lines.length;
      return;
    }
    const recs: AuditRecord[] = [];
    const kept: string[] = [];
    for (const l of lines) {
      const r = parseRecord(l);
      if (!r) this.bad++;
      else if (!this.keep || this.keep(r)) {
        recs.push(r);
        kept.push(l);
      }
    }
    this.shown += kept.length;
    if (this.json) {
      if (kept.length > 0) this.out(kept.join('\n') + '\n');
      return;
    }
    const cells = recs.map((r) => this.cells(r));
    for (const x of cells) {
      this.w.keys = Math.max(this.w.keys, Math.min(x.keys.length, 48));
      this.w.pid = Math.max(this.w.pid, x.pid.length);
      this.w.session = Math.max(this.w.session, x.session.length);
      this.w.exe = Math.max(this.w.exe, Math.min(x.exe.length, 48));
    }
    const rows = recs.map((r, i) => this.row(r, cells[i]!));
    if (rows.length > 0) this.out(rows.join('\n') + '\n');
  }

  private cells(r: AuditRecord) {
    const keys = r.op === 'refused' ? `uid ${r.uid ?? '?'}` : r.op === 'suppressed' ? `×${r.count ?? '?'}` : clean((r.keys ?? []).map((k) => (r.sources?.[k] ? `${k}(${r.sources[k]})` : k)).join(','));
    // A non-dumpable caller shows only its name, in brackets: not a path the kernel vouched for.
    const exe = typeof r.exe === 'string' ? clean(r.exe) : typeof r.comm === 'string' ? `[${clean(r.comm)}]` : '?';
    return {
      keys,
      pid: r.pid === null || r.pid === undefined ? '-' : String(r.pid),
      session: r.session === null || r.session === undefined ? '-' : String(r.session),
      exe,
      cwd: r.cwd === null || r.cwd === undefined ? '?' : clean(r.cwd),
    };
  }

  private row(r: AuditRecord, x: ReturnType<Printer['cells']>): string {
    const refused = r.op === 'refused' || r.op === 'suppressed';
    const op = refused ? this.c.bold(this.c.red('REFUSED'.padEnd(7))) : clean(r.op).padEnd(7);
    const time = this.c.dim(localTime(r.time));
    if (r.op === 'suppressed') {
      return `${time}  ${op}  ${x.keys.padEnd(this.w.keys)}  ${clean(r.reason ?? '')}`;
    }
    const line = `${time}  ${op}  ${x.keys.padEnd(this.w.keys)}  pid ${x.pid.padEnd(this.w.pid)}  session ${x.session.padEnd(this.w.session)}  ${x.exe.padEnd(this.w.exe)}  ${x.cwd}${ran(r)}`;
    return refused ? `${line}  ${this.c.red(clean(r.reason ?? ''))}` : line;
  }
}

/** Prints what is there, then (follow) polls the current file, reopening it after a rotation. */
export async function run(o: { follow: boolean; json: boolean; keys: string[]; since?: string; refused: boolean }): Promise<number | void> {
  const filter: LogFilter = { refused: o.refused };
  if (o.keys.length > 0) {
    for (const k of o.keys) assertKeyName(k);
    filter.keys = o.keys;
  }
  if (o.since !== undefined) filter.sinceMs = durationFlag('--since', o.since);
  const path = files.auditLog(process.env);
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0); // `keyrack log | head`
    throw e;
  });
  const printer = new Printer(o.json, (s) => process.stdout.write(s), matcher(filter));

  const all = logFiles(path);
  let fd: number | undefined;
  let ino = 0;
  let pos = 0;
  const carry = { rest: '' };
  for (const f of all) {
    let ffd: number;
    try {
      ffd = openSync(f, 'r');
    } catch {
      continue; // rotated away between readdir and open
    }
    const c = { rest: '' };
    const { lines, pos: end } = readLines(ffd, 0, c);
    printer.print(lines);
    if (f === path) {
      fd = ffd;
      ino = fstatSync(ffd).ino;
      pos = end;
      carry.rest = c.rest;
    } else {
      closeSync(ffd);
    }
  }
  if (!o.follow) {
    if (fd !== undefined) closeSync(fd);
    if (all.length === 0) process.stderr.write(`keyrack: no audit records yet (${forHumans(path)})\n`);
    else if (printer.shown === 0 && o.refused) process.stderr.write(`keyrack: no refused connections${o.since !== undefined ? ` in the last ${o.since}` : ''}${filter.keys ? ` for ${filter.keys.join(', ')}` : ''}\n`);
    else if (printer.shown === 0 && (filter.keys || filter.sinceMs !== undefined)) process.stderr.write('keyrack: no records match\n');
    if (printer.bad > 0) process.stderr.write(`keyrack: ${printer.bad} line${printer.bad === 1 ? '' : 's'} of the audit log could not be read\n`);
    return 0;
  }

  for (;;) {
    await sleep(POLL_MS);
    if (fd !== undefined) {
      const got = readLines(fd, pos, carry);
      pos = got.pos;
      printer.print(got.lines);
    }
    let now: number | undefined;
    try {
      now = statSync(path).ino;
    } catch {
      now = undefined; // between a rename and the next record: keep reading the old one
    }
    if (now !== undefined && now !== ino) {
      // Rotated: finish the old file (now audit.log.1; a last record may have landed there), then start the new one.
      if (fd !== undefined) {
        printer.print(readLines(fd, pos, carry).lines);
        closeSync(fd);
      }
      try {
        fd = openSync(path, 'r');
        ino = fstatSync(fd).ino;
      } catch {
        fd = undefined;
        ino = 0;
      }
      pos = 0;
      carry.rest = '';
      if (fd !== undefined) {
        const got = readLines(fd, 0, carry);
        pos = got.pos;
        printer.print(got.lines);
      }
    }
  }
}
