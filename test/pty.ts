/**
 * Drives a program through a real pseudo-terminal (python3's pty module), as a
 * person at a keyboard would: type, wait for text on the screen, read it.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const DRIVER = fileURLToPath(new URL('./pty-driver.py', import.meta.url));

export class Pty {
  private child: ChildProcessWithoutNullStreams;
  /** Everything the program has printed so far (raw, with escape sequences). */
  output = '';
  private seen = 0;
  readonly exited: Promise<number>;

  /** `uid`: run as that user (and group of the same number); root only. */
  constructor(argv: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; uid?: number } = {}) {
    const as = opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.uid };
    this.child = spawn('python3', [DRIVER, ...argv], { env: opts.env ?? process.env, cwd: opts.cwd, ...as });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (d: string) => { this.output += d; });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (d: string) => { this.output += d; });
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code ?? -1)));
  }

  write(s: string): void {
    this.child.stdin.write(s);
  }

  /**
   * Waits until the output after the last match contains `pattern`; returns that output.
   * The limit only bounds a hang: CI machines are shared, so it is generous.
   */
  async expect(pattern: string | RegExp, timeoutMs = 30_000): Promise<string> {
    const start = Date.now();
    for (;;) {
      const rest = this.output.slice(this.seen);
      const m = typeof pattern === 'string' ? (rest.includes(pattern) ? { index: rest.indexOf(pattern), len: pattern.length } : null)
        : (() => { const r = pattern.exec(rest); return r ? { index: r.index, len: r[0].length } : null; })();
      if (m) {
        this.seen += m.index + m.len;
        return rest.slice(0, m.index + m.len);
      }
      if (Date.now() - start > timeoutMs) {
        throw new Error(`timed out waiting for ${String(pattern)}; screen so far:\n${rest.slice(-2000)}`);
      }
      await sleep(10);
    }
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}
