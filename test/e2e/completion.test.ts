/**
 * Tab completion in real bash, zsh, fish, tcsh and elvish on a pty (issue 15, items 2 and 10):
 * Tab is pressed, and the line the shell completed is read back (the line is
 * turned into `echo ==…` and run). Commands, options, vault and shell names, key
 * names from the registry (for KEY and --key), files for import, directories for
 * allow, a command and its files after `exec --`; zsh with and without compinit
 * loaded; summaries of commands in zsh and fish; and the command list is the
 * table's, the one help prints.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEYRACK, keyrack, requireTool, run, sandbox, type Sandbox } from '../helpers.ts';
import { ShellSession } from '../shell-session.ts';
import { Pty } from '../pty.ts';

/** A sandbox whose PATH has a `keyrack` (as install.sh makes one), two keys, a file and a directory. */
async function setUp(): Promise<{ sb: Sandbox; cwd: string; path: string }> {
  const sb = sandbox();
  const bin = join(sb.dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'keyrack'), `#!/bin/sh\nexec '${process.execPath}' '${KEYRACK}' "$@"\n`);
  chmodSync(join(bin, 'keyrack'), 0o755);
  for (const k of ['GITHUB_TOKEN', 'NPM_TOKEN']) {
    assert.equal((await keyrack(['set', k, '--vault', 'os.direct'], { env: sb.env, input: 'v\n' })).code, 0);
  }
  const cwd = join(sb.dir, 'work');
  mkdirSync(join(cwd, 'projdir'), { recursive: true });
  writeFileSync(join(cwd, 'secrets.env'), 'A=1\n');
  return { sb, cwd, path: `${bin}:${sb.env.PATH}` };
}

const LINE = { bash: 'eval "$(keyrack completion bash)"', zsh: 'eval "$(keyrack completion zsh)"', fish: 'keyrack completion fish | source' };

/** The screen as text: the terminal's control sequences (colours, cursor moves, titles) taken out. */
function plain(raw: string): string {
  return raw.replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]/g, '');
}

/** Waits until the screen after `start` holds `re` (bounded only against a hang), then returns the match. */
async function waitFor(s: ShellSession, start: number, re: RegExp): Promise<RegExpExecArray> {
  const until = Date.now() + 30_000;
  for (;;) {
    const m = re.exec(plain(s.pty.output.slice(start)));
    if (m) return m;
    if (Date.now() > until) throw new Error(`timed out waiting for ${String(re)}; screen:\n${plain(s.pty.output.slice(start)).slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Types `typed`, presses Tab, and returns the line the shell made of it (run as `echo ,,LINE`). */
async function tab(s: ShellSession, typed: string): Promise<string> {
  const start = s.pty.output.length;
  // Ctrl-A, then `echo ,,` in front, then Enter: the completed line comes back as output.
  s.pty.write(`${typed}\t\x01echo ,,\r`);
  const m = await waitFor(s, start, /(?:^|[\r\n]),,([^\r\n]*)\r?\n[\s\S]*§P§ /);
  return m[1]!.trim();
}

const CASES: Array<[typed: string, completed: string]> = [
  ['keyrack unl', 'keyrack unlock'],
  ['keyrack help unl', 'keyrack help unlock'],
  ['keyrack set NEW --vault os.s', 'keyrack set NEW --vault os.secure'],
  ['keyrack get GITH', 'keyrack get GITHUB_TOKEN'],
  ['keyrack unlock NPM', 'keyrack unlock NPM_TOKEN'],
  ['keyrack exec --key NPM', 'keyrack exec --key NPM_TOKEN'],
  ['keyrack log --key GITH', 'keyrack log --key GITHUB_TOKEN'],
  ['keyrack import secr', 'keyrack import secrets.env'],
  ['keyrack restore secr', 'keyrack restore secrets.env'],
  ['keyrack mv GITH', 'keyrack mv GITHUB_TOKEN'],
  ['keyrack mv GITHUB_TOKEN --vault os.d', 'keyrack mv GITHUB_TOKEN --vault os.direct'],
  ['keyrack allow projd', 'keyrack allow projdir/'],
  ['keyrack hook fi', 'keyrack hook fish'],
  ['keyrack daemon ru', 'keyrack daemon run'],
  ['keyrack list --na', 'keyrack list --names'],
  ['keyrack exec -- hostna', 'keyrack exec -- hostname'],
  ['keyrack exec --key GITHUB_TOKEN -- cat secr', 'keyrack exec --key GITHUB_TOKEN -- cat secrets.env'],
];

const variants: Array<[keyof typeof LINE, string[], string]> = [
  ['bash', [], 'bash'],
  ['zsh', [], 'zsh without compinit in .zshrc'],
  ['zsh', ['autoload -Uz compinit && compinit -i'], 'zsh after compinit'],
  ['fish', [], 'fish'],
];

for (const [shell, before, label] of variants) {
  test(`${label}: Tab completes commands, options, vaults, key names, files, directories, and commands after exec`, async (t) => {
    if (!requireTool(shell) || !requireTool('hostname')) return t.skip('missing tools');
    const { sb, cwd, path } = await setUp();
    t.after(() => sb.cleanup());
    const s = await ShellSession.start(shell, sb, { cwd, env: { PATH: path, TERM: 'xterm' }, before, after: [LINE[shell]] });
    try {
      assert.doesNotMatch(s.pty.output, /command not found|compdef|mapfile|error/i, 'the script loads silently');
      const wrong: string[] = [];
      for (const [typed, want] of CASES) {
        // zsh takes back the slash it added after a directory once the cursor leaves the word (AUTO_REMOVE_SLASH).
        const got = (await tab(s, typed)).replace(/\/$/, '');
        if (got !== want.replace(/\/$/, '')) wrong.push(`${JSON.stringify(typed)} → ${JSON.stringify(got)} (want ${JSON.stringify(want)})`);
      }
      assert.deepEqual(wrong, []);
      assert.doesNotMatch(s.pty.output, /command not found: (compdef|mapfile)|_keyrack[a-z_]*:\d+:/, 'no shell error from the completion');

      if (shell !== 'bash') {
        // Two candidates: the shell lists them, each with its summary from the table.
        const start = s.pty.output.length;
        s.pty.write('keyrack lo\t');
        await s.pty.expect('The audit log');
        assert.match(s.pty.output.slice(start), /Drop keys from the daemon/);
        s.pty.write('\x03');
        await s.pty.expect('§P§ ');
      }
    } finally {
      await s.close();
    }
  });
}

test('the completion scripts offer exactly the commands help lists; an unknown shell is refused', async () => {
  const sb = sandbox();
  try {
    const help = await keyrack(['help'], { env: sb.env });
    const listed = [...help.stdout.matchAll(/^ {2}([a-z]+) {2,}\S/gm)].map((m) => m[1]!);
    assert.ok(listed.includes('unlock') && listed.includes('help'), help.stdout);
    const b = await keyrack(['completion', 'bash'], { env: sb.env });
    const r = await run('bash', ['-c', `${b.stdout}\nCOMP_WORDS=(keyrack ''); COMP_CWORD=1; _keyrack_complete; echo "\${COMPREPLY[*]}"`], { env: sb.env });
    assert.deepEqual(r.stdout.trim().split(' ').filter((w) => !w.startsWith('-')).sort(), [...listed].sort());
    const bad = await keyrack(['completion', 'tcsh-nope'], { env: sb.env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /no completion for shell 'tcsh-nope'/);
  } finally {
    sb.cleanup();
  }
});

/** `text` as it reaches a terminal that redraws between characters (elvish does). */
const onScreen = (text: string) => new RegExp([...text].map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('(?:\x1b\\[[0-9;?]*[A-Za-z]|\r)*'));

for (const shell of ['tcsh', 'elvish'] as const) {
  test(`${shell}: Tab completes commands, shells, flags and key names`, async (t) => {
    if (!requireTool(shell)) return t.skip(`${shell} missing`);
    const sb = sandbox();
    t.after(() => sb.cleanup());
    assert.equal((await keyrack(['set', 'MY_TOKEN', '--vault', 'os.direct'], { env: sb.env, input: 'v\n' })).code, 0);
    // `keyrack` on PATH, as an installed one is: the completion asks it for key names.
    const bin = join(sb.dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'keyrack'), `#!/bin/sh\nexec '${process.execPath}' '${KEYRACK}' "$@"\n`, { mode: 0o755 });
    const env = { ...sb.env, TERM: 'dumb', PATH: `${bin}:${process.env.PATH}` };
    let argv: string[];
    if (shell === 'tcsh') {
      writeFileSync(join(sb.home, '.tcshrc'), "set prompt = '§P§ '\nset edit\neval \"`keyrack completion tcsh`\"\n");
      argv = ['tcsh', '-i'];
    } else {
      const dir = join(sb.env.XDG_CONFIG_HOME!, 'elvish');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'rc.elv'), "set edit:prompt = { put '§P§ ' }\nset edit:rprompt = { }\neval (keyrack completion elvish | slurp)\n");
      argv = ['elvish'];
    }
    const p = new Pty(argv, { env, cwd: sb.dir });
    try {
      await p.expect('§P§ ');
      for (const [typed, completed] of [['keyrack unl', 'unlock'], ['keyrack hook tc', 'tcsh'], ['keyrack export dir', 'direnv'], ['keyrack get MY_', 'MY_TOKEN'], ['keyrack unlock --tt', '--ttl'], ['keyrack mark MY_', 'MY_TOKEN'], ['keyrack help unl', 'unlock']]) {
        // What is typed never holds the completed word: only the completion can show it.
        p.write(`${typed}\t`);
        await p.expect(onScreen(completed!));
        p.write('\x15'); // ^U: an empty line again
      }
    } finally {
      p.kill();
    }
  });
}
