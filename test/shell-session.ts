/**
 * A real interactive bash, zsh, fish, tcsh or elvish in a pseudo-terminal, with the keyrack hook
 * installed from its rc file in a sandbox HOME, driven as a person would: type a
 * line, wait for the next prompt. The environment is read raw from a child process
 * (`env -0` into a file), never through the shell's own echo.
 */
import { chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEYRACK, type Sandbox } from './helpers.ts';
import { Pty } from './pty.ts';

export type ShellName = 'bash' | 'zsh' | 'fish' | 'tcsh' | 'elvish';
export const SHELLS: ShellName[] = ['bash', 'zsh', 'fish'];
/** With the two that quote differently again (issue 16). */
export const ALL_SHELLS: ShellName[] = [...SHELLS, 'tcsh', 'elvish'];

/** A command that does nothing, in each shell (elvish has no `:`). */
export const NOOP: Record<ShellName, string> = { bash: ':', zsh: ':', fish: ':', tcsh: ':', elvish: 'nop' };

/** Never appears in what we type, so it only matches a real prompt. */
export const PROMPT = '§P§ ';

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
const qFish = (s: string) => `'${s.replace(/[\\']/g, '\\$&')}'`;
const qElvish = (s: string) => `'${s.replaceAll("'", "''")}'`;
/** tcsh: plain single quotes, for paths without `'`, `!` or line breaks (the sandbox's). */
const qTcsh = (s: string) => {
  if (/['!\n\r]/.test(s)) throw new Error(`not a path this test quotes for tcsh: ${s}`);
  return `'${s}'`;
};

/** `keyrack ARGS` as a shell word list (node + the built bundle: no PATH needed). */
export function keyrackCmd(shell: ShellName): string {
  const quote = { bash: q, zsh: q, fish: qFish, tcsh: qTcsh, elvish: qElvish }[shell];
  return `${quote(process.execPath)} ${quote(KEYRACK)}`;
}

/** Gives `dir` and everything under it to `uid` (root only), links themselves rather than their targets. */
export function chownTree(dir: string, uid: number): void {
  const st = lstatSync(dir);
  if (st.isDirectory()) for (const e of readdirSync(dir)) chownTree(join(dir, e), uid);
  if (st.isSymbolicLink()) return;
  chownSync(dir, uid, uid);
}

export interface SessionOptions {
  cwd: string;
  /** rc lines before the hook (bash: e.g. an array PROMPT_COMMAND). */
  before?: string[];
  /** rc lines after the hook. */
  after?: string[];
  /** Extra variables in the shell's starting environment. */
  env?: NodeJS.ProcessEnv;
  /** Run the shell under strace, logging every process it starts to this file. */
  straceLog?: string;
  /** With straceLog: these syscalls instead (e.g. `execve,openat,read`), fds shown with their paths (-y). */
  straceTrace?: string;
  /** Start it in a fresh audit login session (root: writes /proc/self/loginuid first). */
  newSession?: boolean;
  /** Run the shell as this uid (root only); the whole sandbox is made its own first. */
  uid?: number;
}

export class ShellSession {
  private n = 0;
  private envFiles = 0;

  private constructor(readonly shell: ShellName, readonly pty: Pty, private readonly sb: Sandbox) {}

  static async start(shell: ShellName, sb: Sandbox, o: SessionOptions): Promise<ShellSession> {
    const hook = `${keyrackCmd(shell)} hook ${shell}`;
    const env: NodeJS.ProcessEnv = { ...sb.env, TERM: 'dumb', ...o.env };
    let argv: string[];
    if (shell === 'bash') {
      const rc = join(sb.home, '.bashrc');
      writeFileSync(rc, [
        'HISTFILE=/dev/null',
        `PS1='[$?]${PROMPT}'`,
        ...(o.before ?? []),
        `eval "$(${hook})"`,
        ...(o.after ?? []),
      ].join('\n') + '\n');
      argv = ['bash', '--noprofile', '--rcfile', rc, '-i'];
    } else if (shell === 'zsh') {
      const zdot = join(sb.home, '.zdot');
      mkdirSync(zdot, { recursive: true });
      writeFileSync(join(zdot, '.zshrc'), [
        'unset HISTFILE',
        'unsetopt PROMPT_SP',
        `PROMPT='[%?]${PROMPT}'`,
        ...(o.before ?? []),
        `eval "$(${hook})"`,
        ...(o.after ?? []),
      ].join('\n') + '\n');
      env.ZDOTDIR = zdot;
      argv = ['zsh', '-d', '-i'];
    } else if (shell === 'fish') {
      const dir = join(env.XDG_CONFIG_HOME!, 'fish');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'config.fish'), [
        'set -g fish_greeting',
        `function fish_prompt; printf '[%s]${PROMPT}' $status; end`,
        ...(o.before ?? []),
        `${hook} | source`,
        ...(o.after ?? []),
      ].join('\n') + '\n');
      // Present, so fish does not start generating completions from man pages in
      // the background on its first run.
      mkdirSync(join(env.XDG_DATA_HOME!, 'fish', 'generated_completions'), { recursive: true });
      argv = ['fish', '-i'];
    } else if (shell === 'tcsh') {
      writeFileSync(join(sb.home, '.tcshrc'), [
        'unset savehist',
        'set histfile = /dev/null',
        `set prompt = '[%?]${PROMPT}'`,
        ...(o.before ?? []),
        `eval "\`${hook}\`"`,
        ...(o.after ?? []),
      ].join('\n') + '\n');
      argv = ['tcsh', '-i'];
    } else {
      const dir = join(env.XDG_CONFIG_HOME!, 'elvish');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'rc.elv'), [
        `set edit:prompt = { put '${PROMPT}' }`,
        'set edit:rprompt = { }',
        ...(o.before ?? []),
        `eval (${hook} | slurp)`,
        ...(o.after ?? []),
      ].join('\n') + '\n');
      argv = ['elvish'];
    }
    if (o.newSession) argv = ['sh', '-c', 'echo 1000 > /proc/self/loginuid || exit 99; exec "$@"', 'sh', ...argv];
    if (o.straceLog) {
      const trace = o.straceTrace ? ['-y', '-e', `trace=${o.straceTrace}`] : ['-e', 'trace=execve,fork,vfork,clone,clone3'];
      argv = ['strace', '-f', '-qq', '--seccomp-bpf', ...trace, '-o', o.straceLog, ...argv];
    }
    if (o.uid !== undefined) chownTree(sb.dir, o.uid);
    const s = new ShellSession(shell, new Pty(argv, { env, cwd: o.cwd, ...(o.uid === undefined ? {} : { uid: o.uid }) }), sb);
    await s.pty.expect(PROMPT, 20_000);
    return s;
  }

  /**
   * Types one line and waits until it has run and the next prompt (with the hook
   * before it) is shown. Returns everything printed meanwhile (the echoed line,
   * its output and the hook's messages; zsh and fish run the hook on cd already).
   */
  async run(line: string, timeoutMs = 15_000): Promise<string> {
    const start = this.pty.output.length;
    const mark = `DONE${++this.n}`;
    this.pty.write(`${line}; echo DO''NE${this.n}\r`);
    await this.pty.expect(mark, timeoutMs);
    await this.pty.expect(PROMPT, timeoutMs);
    return this.pty.output.slice(start);
  }

  /** Runs `line` and returns $? as the next prompt sees it (after the hook ran). */
  async statusAfter(line: string): Promise<number> {
    const mark = `DONE${++this.n}`;
    // The mark is printed before `line`, so `line` sets the status.
    this.pty.write(`printf 'DO%sNE%s\\n' '' ${this.n}; ${line}\r`);
    await this.pty.expect(mark);
    const out = await this.pty.expect(new RegExp(`\\[(\\d+)\\]${PROMPT}`));
    return Number(/\[(\d+)\]§P§ $/.exec(out)![1]);
  }

  /** The exported environment as a child process sees it, byte-exact. */
  async env(): Promise<Map<string, Buffer>> {
    const file = join(this.sb.dir, `env.${++this.envFiles}`);
    await this.run(`env -0 > ${file}`);
    const raw = readFileSync(file);
    rmSync(file);
    const out = new Map<string, Buffer>();
    let start = 0;
    for (let i = 0; i <= raw.length; i++) {
      if (i === raw.length || raw[i] === 0) {
        if (i > start) {
          const entry = raw.subarray(start, i);
          const eq = entry.indexOf(0x3d);
          out.set(entry.subarray(0, eq).toString('latin1'), Buffer.from(entry.subarray(eq + 1)));
        }
        start = i + 1;
      }
    }
    return out;
  }

  async close(): Promise<void> {
    this.pty.write('exit\r');
    const t = setTimeout(() => this.pty.kill(), 5000);
    await this.pty.exited;
    clearTimeout(t);
  }
}
