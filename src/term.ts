/**
 * Terminal niceties for human output only (never --json, never `export`'s stdout):
 * - colour only when the stream is a TTY, NO_COLOR is unset or empty
 *   (https://no-color.org: any non-empty value disables it) and TERM is not "dumb";
 * - a progress line on stderr for steps that may take over a second: a spinner on a
 *   TTY, cleared when done; one plain line otherwise. It redraws with `\r` and spaces
 *   only, so it never emits an escape sequence, NO_COLOR or not.
 */
import type { Env } from './paths.js';

export interface TermStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

/** Whether human output written to `stream` may be coloured. */
export function colorEnabled(stream: { isTTY?: boolean }, env: Env = process.env): boolean {
  if (stream.isTTY !== true) return false;
  if ((env.NO_COLOR ?? '') !== '') return false;
  return env.TERM !== 'dumb';
}

export interface Palette {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

/** SGR colour helpers; identity functions when disabled. Apply after padding: codes have no width. */
export function color(enabled: boolean): Palette {
  const sgr = (open: number, close: number) => (enabled ? (s: string) => `\x1b[${open}m${s}\x1b[${close}m` : (s: string) => s);
  return { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), cyan: sgr(36, 39) };
}

export interface Progress {
  /** Changes the label (redrawn on a TTY; ignored on a plain stream, which got its one line). */
  update(label: string): void;
  /** Stops and clears the line; safe to call twice. */
  done(): void;
}

/** Spinner frames, drawn in place with \r (never an escape sequence). */
export const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Shows `label` while a slow step runs. Nothing else may write to the stream until
 * done() (no prompt in between): call it in a finally.
 */
export function progress(label: string, opts: { stream?: TermStream; env?: Env; intervalMs?: number } = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const env = opts.env ?? process.env;
  if (stream.isTTY !== true || env.TERM === 'dumb') {
    stream.write(`keyrack: ${label}…\n`);
    return { update() {}, done() {} };
  }
  let current = label;
  let tick = 0;
  let drawn = 0; // characters on the line now
  let finished = false;
  const draw = () => {
    const width = Math.max(10, (stream.columns ?? 80) - 1); // never wrap: \r only returns within a line
    let chars = [...`${FRAMES[tick++ % FRAMES.length]} ${current}…`];
    if (chars.length > width) chars = [...chars.slice(0, width - 1), '…'];
    const pad = Math.max(0, drawn - chars.length);
    stream.write(`\r${chars.join('')}${' '.repeat(pad)}${pad > 0 ? `\r${chars.join('')}` : ''}`);
    drawn = chars.length;
  };
  draw();
  const timer = setInterval(draw, opts.intervalMs ?? 100);
  timer.unref(); // never keeps the process alive
  return {
    update(l: string) {
      if (finished) return;
      current = l;
      draw();
    },
    done() {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      stream.write(`\r${' '.repeat(drawn)}\r`);
      drawn = 0;
    },
  };
}

/** Runs `fn` under a progress line, cleared however it ends. */
export async function withProgress<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const p = progress(label);
  try {
    return await fn();
  } finally {
    p.done();
  }
}
