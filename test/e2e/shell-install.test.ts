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
  const hook = shell === 'fish' ? `${keyrackCmd(shell)} hook fish | source` : `eval "$(${keyrackCmd(shell)} hook ${shell})"`;
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
};

const variants: Array<[ShellName, 'string' | 'array']> = [['bash', 'string'], ['bash', 'array'], ['zsh', 'string'], ['fish', 'string']];

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
      assert.equal(count(hooks, '__keyrack_hook'), shell === 'bash' ? 1 : 2, `hooks:\n${hooks}`);
      if (shell === 'bash') assert.equal(count(hooks, 'echo $?'), 1, 'the user\'s prompt command is kept');

      // $? survives the hook, both when it does nothing and when it runs export.
      assert.equal(await s.statusAfter('false'), 1);
      if (shell === 'bash') assert.equal(readFileSync(pcrc, 'utf8').trim(), '1');
      assert.equal(await s.statusAfter(`cd ${dir}; false`), 1);
      if (shell === 'bash') assert.equal(readFileSync(pcrc, 'utf8').trim(), '1');

      // Locked: what is available is set, the rest named once.
      let env = await s.env();
      assert.equal(env.get('DIRECT_KEY')?.toString(), DIRECT);
      assert.equal(env.has('SECURE_KEY'), false);
      assert.match(s.pty.output, /keyrack: \+DIRECT_KEY; SECURE_KEY locked — run keyrack unlock/);
      assert.equal(s.pty.output.includes('OPTIONAL_KEY'), false, 'optional keys make no noise');

      // unlock in this shell → the key is there at the next prompt.
      const kr = keyrackCmd(shell);
      let out = await s.run(`printf '%s\\n' '${PASS}' | ${kr} unlock`);
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
