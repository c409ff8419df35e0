/**
 * Running the external CLIs of remote vaults (`op`, `aws`): argv only, never a
 * shell; a hard timeout that kills a hung tool; stdout kept as bytes so the
 * caller can refuse invalid UTF-8 instead of silently replacing it.
 */
import { spawn, type StdioOptions } from 'node:child_process';
import { delimiter, isAbsolute, join } from 'node:path';
import type { Env } from '../paths.js';
import { isExecutableFile } from '../program.js';

/** The first executable `name` on env.PATH (absolute entries only), or null. */
export function findOnPath(name: string, env: Env): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    // A relative PATH entry would make the result depend on the cwd: skip it.
    if (!dir || !isAbsolute(dir)) continue;
    const p = join(dir, name);
    if (isExecutableFile(p)) return p;
  }
  return null;
}

export { isExecutableFile };

export interface ToolResult {
  /** Exit status; null when killed by a signal. */
  code: number | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
  /** stdout was longer than we keep (then stdout is empty). */
  overflow: boolean;
}

export interface ToolOptions {
  env: Env;
  timeoutMs: number;
  /** Written to stdin, then closed; without it stdin is /dev/null. */
  input?: string;
  /**
   * Hand the tool's stdout and stderr to this instead of capturing them
   * (`aws sso login` shows the user a URL and a code).
   */
  onOutput?: (chunk: Buffer) => void;
  /** Aborts the run early (the tool is killed) — e.g. a login given up on. */
  signal?: AbortSignal;
  /**
   * Run it in a process group of its own and kill the whole group on timeout, for
   * tools that leave the work to a child (pass runs gpg) which must not outlive it.
   */
  group?: boolean;
}

const MAX_OUTPUT = 4 * 1024 * 1024;

/**
 * Runs `path args…` and resolves when it exits (never rejects for the tool's own
 * failure). We resolve on 'exit', not 'close': a grandchild that inherited the
 * pipes must not keep us waiting after the tool itself was killed.
 */
export function runTool(path: string, args: string[], opts: ToolOptions): Promise<ToolResult & { spawnError?: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    const stdio: StdioOptions = [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'];
    const child = spawn(path, args, { env: opts.env, stdio, shell: false, windowsHide: true, detached: opts.group === true });
    const out: Buffer[] = [];
    let outLen = 0;
    let err = '';
    let timedOut = false;
    let settled = false;

    const forward = opts.onOutput;
    if (forward) {
      child.stdout?.on('data', (d: Buffer) => forward(d));
      child.stderr?.on('data', (d: Buffer) => forward(d));
    } else {
      child.stdout?.on('data', (d: Buffer) => {
        outLen += d.length;
        if (outLen <= MAX_OUTPUT) out.push(d);
      });
      child.stderr?.setEncoding('utf8').on('data', (d: string) => {
        if (err.length < 64 * 1024) err += d;
      });
    }
    child.stdin?.on('error', () => { /* the tool may exit before reading it all */ });
    if (child.stdin && opts.input !== undefined) child.stdin.end(opts.input);

    const kill = () => {
      // SIGKILL: a hung tool may ignore SIGTERM, and we have nothing to save.
      try {
        if (opts.group === true && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch { /* already gone */ }
    };
    const timer = setTimeout(() => { timedOut = true; kill(); }, opts.timeoutMs);
    const onAbort = () => kill();
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const finish = (r: ToolResult & { spawnError?: NodeJS.ErrnoException }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    child.on('error', (e: NodeJS.ErrnoException) => {
      finish({ code: null, stdout: Buffer.alloc(0), stderr: '', timedOut: false, overflow: false, spawnError: e });
    });
    child.on('exit', (code) => {
      // Give the pipes a moment to drain what the tool wrote before exiting.
      const done = () => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        const stdout = outLen > MAX_OUTPUT ? Buffer.alloc(0) : Buffer.concat(out);
        finish({ code, stdout, stderr: err, timedOut, overflow: outLen > MAX_OUTPUT });
      };
      let pending = (child.stdout && !child.stdout.readableEnded ? 1 : 0) + (child.stderr && !child.stderr.readableEnded ? 1 : 0);
      if (pending === 0) return done();
      const grace = setTimeout(done, 200);
      const one = () => { if (--pending === 0) { clearTimeout(grace); done(); } };
      child.stdout?.once('end', one);
      child.stderr?.once('end', one);
    });
  });
}

/** A timeout in ms from env var `name` (seconds, may be fractional), else the default. */
export function timeoutFrom(env: Env, name: string, defaultSeconds: number): number {
  const raw = env[name];
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    if (Number.isFinite(n) && n > 0) return Math.round(n * 1000);
  }
  return defaultSeconds * 1000;
}

/** A timeout for people: 1s, 2.5s, 90s, 5m. */
export function seconds(ms: number): string {
  if (ms >= 120_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

/**
 * The line of a tool's stderr worth showing: the last non-empty one, without
 * op's "[ERROR] 2024/01/02 03:04:05 " prefix, control characters and excess length.
 */
export function toolMessage(stderr: string): string {
  const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  let line = lines.length ? lines[lines.length - 1]! : '';
  line = line.replace(/^\[ERROR\]\s+\d{4}\/\d{2}\/\d{2}\s+\d{2}:\d{2}:\d{2}\s+/, '');
  line = line.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return line.length > 300 ? line.slice(0, 300) + '…' : line;
}

/** fn over items, at most `limit` at a time; results in the items' order. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
