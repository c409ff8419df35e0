/**
 * Reading a secret from the user: a hidden prompt on a terminal, else stdin.
 * Values are text (valid UTF-8, no NUL); anything else is refused, never altered,
 * and no error message ever quotes the bytes it refused.
 */
import { Cancelled, UserError } from './errors.js';
import { decodeStrict, firstInvalidUtf8 } from './utf8.js';

/** Decodes bytes as UTF-8, refusing NUL and invalid sequences. `what` names the value in errors. */
export function textOf(buf: Uint8Array, what: string): string {
  const nul = buf.indexOf(0);
  if (nul !== -1) throw new UserError(`${what} contains a NUL byte (at byte ${nul}); keyrack stores only text without NUL — nothing stored`);
  const text = decodeStrict(buf);
  if (text === null) throw new UserError(`${what} is not valid UTF-8 (at byte ${firstInvalidUtf8(buf)}); keyrack stores only text — nothing stored`);
  return text;
}

/** `printf 'x\n' | keyrack set K` stores "x": exactly one trailing \n is the line end. */
export function stripOneNewline(buf: Uint8Array): Uint8Array {
  return buf.length > 0 && buf[buf.length - 1] === 0x0a ? buf.subarray(0, buf.length - 1) : buf;
}

/** A value as read from stdin: all of it minus one trailing \n, checked. */
export function valueFromBytes(buf: Uint8Array, what: string): string {
  const v = textOf(stripOneNewline(buf), what);
  if (v.length === 0) throw new UserError(`${what} is empty — nothing stored (an empty secret is almost always a mistake)`);
  return v;
}

/**
 * A line typed at a hidden prompt, fed raw keystrokes: Enter ends it, Backspace
 * removes a whole UTF-8 character, Ctrl-U clears, Ctrl-C (or Ctrl-D on an empty line)
 * cancels. Escape sequences (arrow keys, bracketed-paste markers) are dropped.
 */
export class HiddenLine {
  private bytes: number[] = [];
  /** 0: normal; 1: just saw ESC; 2: inside a CSI/SS3 sequence. */
  private esc = 0;

  feed(chunk: Uint8Array): 'more' | 'done' | 'cancel' {
    for (const b of chunk) {
      if (this.esc === 1) {
        this.esc = b === 0x5b || b === 0x4f ? 2 : 0;
        continue;
      }
      if (this.esc === 2) {
        if (b >= 0x40 && b <= 0x7e) this.esc = 0;
        continue;
      }
      switch (b) {
        case 0x0d:
        case 0x0a:
          return 'done';
        case 0x03:
          return 'cancel';
        case 0x04:
          return this.bytes.length === 0 ? 'cancel' : 'done';
        case 0x7f:
        case 0x08:
          while (this.bytes.length > 0 && (this.bytes[this.bytes.length - 1]! & 0xc0) === 0x80) this.bytes.pop();
          this.bytes.pop();
          break;
        case 0x15:
          this.bytes.length = 0;
          break;
        case 0x1b:
          this.esc = 1;
          break;
        default:
          // Other control keys are editing noise at a prompt, not part of a secret.
          if (b >= 0x20 || b === 0x09) this.bytes.push(b);
      }
    }
    return 'more';
  }

  value(): Uint8Array {
    const out = Uint8Array.from(this.bytes);
    this.bytes.fill(0);
    this.bytes.length = 0;
    return out;
  }
}

function stdinIsTty(): boolean {
  return process.stdin.isTTY === true;
}

/** One hidden line from the terminal on stdin; the prompt goes to stderr. */
async function promptHidden(prompt: string): Promise<Uint8Array> {
  const stdin = process.stdin;
  const line = new HiddenLine();
  // Raw mode first: keys typed as soon as the prompt shows must not be echoed.
  stdin.setRawMode(true);
  process.stderr.write(prompt);
  let outcome: 'done' | 'cancel';
  try {
    outcome = await new Promise<'done' | 'cancel'>((resolve, reject) => {
      const finish = (r: 'done' | 'cancel' | Error) => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.off('error', onError);
        if (r instanceof Error) reject(r);
        else resolve(r);
      };
      const onData = (d: Buffer) => {
        const r = line.feed(d);
        d.fill(0);
        if (r !== 'more') finish(r);
      };
      const onEnd = () => finish('cancel');
      const onError = (e: Error) => finish(e);
      stdin.on('data', onData);
      stdin.on('end', onEnd);
      stdin.on('error', onError);
      stdin.resume();
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
  const value = line.value();
  if (outcome === 'cancel') {
    value.fill(0);
    throw new Cancelled();
  }
  return value;
}

async function readAllStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  const all = Buffer.concat(chunks);
  for (const c of chunks) c.fill(0);
  return all;
}

/**
 * Reads stdin up to and including the first \n (or to EOF) and returns the line
 * without it; whatever follows is put back for the next reader.
 */
async function readStdinLine(): Promise<Buffer> {
  const stdin = process.stdin;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const finish = (r: Buffer | Error) => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('error', onError);
      stdin.pause();
      if (r instanceof Error) reject(r);
      else resolve(r);
    };
    const onData = (d: Buffer) => {
      const nl = d.indexOf(0x0a);
      if (nl === -1) {
        chunks.push(d);
        return;
      }
      chunks.push(d.subarray(0, nl));
      const line = Buffer.concat(chunks);
      const rest = Buffer.from(d.subarray(nl + 1));
      for (const c of chunks) c.fill(0);
      d.fill(0);
      // Detach first: unshift may re-emit 'data' synchronously.
      finish(line);
      if (rest.length > 0) stdin.unshift(rest);
    };
    const onEnd = () => {
      const line = Buffer.concat(chunks);
      for (const c of chunks) c.fill(0);
      finish(line);
    };
    const onError = (e: Error) => finish(e);
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.on('error', onError);
    stdin.resume();
  });
}

/**
 * A secret value: hidden prompt on a TTY, else all of stdin minus exactly one
 * trailing \n. `what` names it in errors, e.g. "the value for GITHUB_TOKEN".
 */
export async function readSecret(prompt: string, what: string): Promise<string> {
  const buf = stdinIsTty() ? await promptHidden(prompt) : await readAllStdin();
  try {
    return valueFromBytes(buf, what);
  } finally {
    buf.fill(0);
  }
}

/**
 * A value that may be absent (`set --vault keyring`: no value means "refer to an
 * existing item"): on a terminal the hidden prompt only when `ask`, else none;
 * from stdin, none when stdin is empty, else all of it minus one trailing \n.
 */
export async function readOptionalSecret(prompt: string, what: string, ask: boolean): Promise<string | undefined> {
  if (stdinIsTty()) return ask ? readSecret(prompt, what) : undefined;
  const buf = await readAllStdin();
  try {
    return buf.length === 0 ? undefined : valueFromBytes(buf, what);
  } finally {
    buf.fill(0);
  }
}

function passphraseOf(buf: Uint8Array): string {
  try {
    const p = textOf(buf, 'the passphrase');
    if (p.length === 0) throw new UserError('the passphrase is empty; choose a non-empty passphrase');
    return p;
  } finally {
    buf.fill(0);
  }
}

/** Whether passphrases come from a person at a terminal (hidden prompts) rather than stdin. */
export function onTerminal(): boolean {
  return stdinIsTty();
}

/** How often a mistyped confirmation is asked again on a terminal before giving up. */
const CONFIRM_TRIES = 3;

/** A new passphrase at hidden prompts (the terminal only), asked twice; a mismatch asks both again (a person mistypes). */
export async function askNewPassphrase(prompt: string): Promise<string> {
  for (let i = 1; ; i++) {
    const first = passphraseOf(await promptHidden(prompt));
    const again = passphraseOf(await promptHidden('Same passphrase again: '));
    if (again === first) return first;
    if (i === CONFIRM_TRIES) throw new UserError(`the two passphrases did not match ${CONFIRM_TRIES} times; nothing changed`);
    process.stderr.write('keyrack: the two passphrases do not match — try again\n');
  }
}

/**
 * A passphrase: hidden prompt on a TTY (asked twice when `confirm`, and both must
 * match: a mismatch is asked again), else one line of stdin.
 */
export async function readPassphrase(prompt: string, opts: { confirm: boolean }): Promise<string> {
  if (!stdinIsTty()) return passphraseOf(await readStdinLine());
  return opts.confirm ? askNewPassphrase(prompt) : passphraseOf(await promptHidden(prompt));
}

/** A hidden prompt for one passphrase, on the terminal only (the caller read stdin otherwise). */
export async function askPassphrase(prompt: string): Promise<string> {
  return passphraseOf(await promptHidden(prompt));
}

/**
 * Passphrases from stdin that is not a terminal, for commands that take nothing
 * else from it: exactly `n` lines (the last newline optional), each non-empty.
 * More or fewer is refused, so a stray line never becomes a passphrase. `what`
 * says what the lines are, e.g. "the new passphrase".
 */
export async function readStdinPassphrases(n: number, what: string): Promise<string[]> {
  const buf = await readAllStdin();
  try {
    let end = buf.length;
    if (end > 0 && buf[end - 1] === 0x0a) end--;
    const lines: Buffer[] = [];
    let start = 0;
    for (let i = 0; i <= end; i++) {
      if (i === end || buf[i] === 0x0a) {
        lines.push(buf.subarray(start, i));
        start = i + 1;
      }
    }
    if (buf.length === 0) lines.length = 0;
    if (lines.length !== n) {
      throw new UserError(`stdin has ${lines.length} line${lines.length === 1 ? '' : 's'}; ${what} ${n === 1 ? 'is one line' : `are ${n} lines`} — nothing changed`);
    }
    return lines.map((l) => passphraseOf(Uint8Array.from(l)));
  } finally {
    buf.fill(0);
  }
}

/**
 * A yes/no question on the terminal (one keystroke: y or Y is yes, anything else
 * no); Ctrl-C cancels (exit 130). Only for a person at a terminal: callers check.
 */
export async function askYesNo(question: string): Promise<boolean> {
  const stdin = process.stdin;
  stdin.setRawMode(true);
  process.stderr.write(question);
  try {
    const key = await new Promise<number>((resolve) => {
      stdin.once('data', (d: Buffer) => resolve(d[0] ?? 0));
      stdin.resume();
    });
    if (key === 0x03) {
      process.stderr.write('\n');
      throw new Cancelled();
    }
    const yes = key === 0x79 || key === 0x59;
    process.stderr.write(yes ? 'y\n' : 'n\n');
    return yes;
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
}
