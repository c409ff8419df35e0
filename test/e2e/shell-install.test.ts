/**
 * The hook's installation and its manners, in real interactive shells: installed
 * once even when the rc file evals it twice, `$?` kept for the prompt and for
 * whatever runs after it, and keys that appear at the next prompt after
 * `keyrack unlock` in the same shell (and go again after `keyrack lock`).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyrack, requireTool, sandbox } from '../helpers.ts';
import { keyrackCmd, ShellSession, type ShellName } from '../shell-session.ts';

const PASS = 'correct horse battery staple';
const SECURE = "secure value: it's $(locked)\nline 2";
const DIRECT = 'direct value';

const sb = sandbox();
after(() => sb.cleanup());

const ready = (async () => {
  const run = async (args: string[], input: string) => {
    const r = await keyrack(args, { env: sb.env, input });
    assert.equal(r.code, 0, `keyrack ${args.join(' ')}: ${r.stderr}`);
  };
  await run(['init'], `${PASS}\n`);
  await run(['set', 'SECURE_KEY'], `${SECURE}\n`); // os.secure: needs unlock
  await run(['set', 'DIRECT_KEY', '--vault', 'os.direct'], `${DIRECT}\n`);
})();

async function project(name: string): Promise<string> {
  const dir = join(sb.dir, name, 'proj');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, '.keyrack'), 'SECURE_KEY\nDIRECT_KEY\nOPTIONAL_KEY?\n');
  const r = await keyrack(['allow', dir], { env: sb.env });
  assert.equal(r.code, 0, r.stderr);
  return dir;
}

const hints = (out: string) => out.split(/\r?\n/).filter((l) => l.includes('keyrack:')).map((l) => l.replace(/^[\s\S]*?keyrack:/, 'keyrack:').trim());
const count = (text: string, word: string) => text.split(word).length - 1;

/** The hook twice over, plus a prompt command of the user's that records $?. */
function rc(shell: ShellName, form: 'string' | 'array', pcrc: string): { before: string[]; after: string[] } {
  const hook = {
    bash: `eval "$(${keyrackCmd(shell)} hook ${shell})"`,
    zsh: `eval "$(${keyrackCmd(shell)} hook ${shell})"`,
    fish: `${keyrackCmd(shell)} hook fish | source`,
    tcsh: `eval "\`${keyrackCmd(shell)} hook tcsh\`"`,
    elvish: `eval (${keyrackCmd(shell)} hook elvish | slurp)`,
  }[shell];
  // tcsh: the user's own precmd, which the hook must keep (and run after it).
  if (shell === 'tcsh') return { before: [`alias precmd 'echo $status > ${pcrc}'`], after: [hook] };
  if (shell === 'bash') {
    const pc = `echo $? > ${pcrc}`;
    return { before: [form === 'array' ? `PROMPT_COMMAND=('${pc}')` : `PROMPT_COMMAND='${pc}'`], after: [hook] };
  }
  return { before: [], after: [hook] };
}

/** Where each shell lists its prompt hooks. */
const listHooks: Record<ShellName, (file: string) => string> = {
  bash: (f) => `printf '%s\\n' "\${PROMPT_COMMAND[@]}" > ${f}`,
  zsh: (f) => `print -rl -- $precmd_functions $chpwd_functions > ${f}`,
  fish: (f) => `functions --handlers > ${f}`,
  tcsh: (f) => `alias precmd > ${f}; alias cwdcmd >> ${f}`,
  // Closures print as their address: their bodies name the hook.
  elvish: (f) => `{ for h [$@edit:before-readline $@after-chdir] { echo $h[body] } } > ${f}`,
};
/** How often each lists the hook: bash once, the others before each prompt and on cd. */
const HOOK_WORD: Record<ShellName, [word: string, times: number]> = {
  bash: ['__keyrack_hook', 1], zsh: ['__keyrack_hook', 2], fish: ['__keyrack_hook', 2], tcsh: ['__keyrack_gate', 2], elvish: ['__keyrack_hook', 1],
};

const variants: Array<[ShellName, 'string' | 'array']> = [['bash', 'string'], ['bash', 'array'], ['zsh', 'string'], ['fish', 'string'], ['tcsh', 'string'], ['elvish', 'string']];

for (const [shell, form] of variants) {
  const label = shell === 'bash' ? `bash (${form} PROMPT_COMMAND)` : shell;
  test(`${label}: installed once when eval'd twice, $? kept; unlock and lock show at the next prompt`, async (t) => {
    if (!requireTool(shell)) return t.skip(`${shell} missing`);
    await ready;
    const dir = await project(`${shell}-${form}`);
    const pcrc = join(sb.dir, `${shell}-${form}.pcrc`);
    const s = await ShellSession.start(shell, sb, { cwd: sb.dir, ...rc(shell, form, pcrc) });
    try {
      const list = join(sb.dir, `${shell}-${form}.hooks`);
      await s.run(listHooks[shell](list));
      const hooks = readFileSync(list, 'utf8');
      const [word, times] = HOOK_WORD[shell];
      assert.equal(count(hooks, word), times, `hooks:\n${hooks}`);
      if (shell === 'bash') assert.equal(count(hooks, 'echo $?'), 1, 'the user\'s prompt command is kept');
      if (shell === 'tcsh') assert.equal(count(hooks, 'echo $status'), 1, 'the user\'s precmd is kept');

      // $? survives the hook, both when it does nothing and when it runs export
      // (elvish has no $?: a failure is an exception, which the prompt shows).
      if (shell !== 'elvish') {
        assert.equal(await s.statusAfter('false'), 1);
        if (shell === 'bash' || shell === 'tcsh') assert.equal(readFileSync(pcrc, 'utf8').trim(), '1');
        assert.equal(await s.statusAfter(`cd ${dir}; false`), 1);
        if (shell === 'bash' || shell === 'tcsh') assert.equal(readFileSync(pcrc, 'utf8').trim(), '1');
      } else {
        await s.run(`cd ${dir}`);
      }

      // Locked: what is available is set, the rest named once.
      let env = await s.env();
      assert.equal(env.get('DIRECT_KEY')?.toString(), DIRECT);
      assert.equal(env.has('SECURE_KEY'), false);
      assert.match(s.pty.output, /keyrack: \+DIRECT_KEY; SECURE_KEY locked — run keyrack unlock/);
      assert.equal(s.pty.output.includes('OPTIONAL_KEY'), false, 'optional keys make no noise');

      // unlock in this shell → the key is there at the next prompt.
      const kr = keyrackCmd(shell);
      // (elvish's printf does not read \\n in single quotes.)
      let out = await s.run(shell === 'elvish' ? `echo '${PASS}' | ${kr} unlock` : `printf '%s\\n' '${PASS}' | ${kr} unlock`);
      assert.ok(hints(out).includes('keyrack: +SECURE_KEY'), JSON.stringify(hints(out)));
      env = await s.env();
      assert.equal(env.get('SECURE_KEY')?.toString(), SECURE);

      // lock → gone at the next prompt, and the hint is back.
      out = await s.run(`${kr} lock`);
      assert.ok(hints(out).some((l) => l.startsWith('keyrack: -SECURE_KEY; SECURE_KEY locked')), out);
      env = await s.env();
      assert.equal(env.has('SECURE_KEY'), false);
      assert.equal(env.get('DIRECT_KEY')?.toString(), DIRECT);
    } finally {
      await s.close();
    }
  });
}
