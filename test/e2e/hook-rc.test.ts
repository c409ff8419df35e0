/**
 * The hooks in the rc files people really have (issue 15, item 3), in real bash,
 * zsh and fish on a pty: strict options set before the hook line (bash `set -u`,
 * zsh `setopt nounset` and friends) neither stop it from installing nor make it
 * noisy; a `.keyrack` that becomes unreadable gives one keyrack line and no shell
 * error at any prompt (run as an unprivileged uid: root reads any file).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyrack, needsRoot, requireTool, sandbox } from '../helpers.ts';
import { keyrackCmd, SHELLS, ShellSession, type ShellName } from '../shell-session.ts';

const NOBODY = 65534;
const VALUE = 'rc-file value';

/** Lines a shell printed that are not keyrack's, its prompt, or the echo of what we typed (ShellSession.run's line ends in `echo DO''NE<n>`). */
function noise(out: string): string[] {
  // The terminal's own mode switches (bracketed paste) are not noise.
  return out.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').split(/\r?\n/).map((l) => l.replace(/\r/g, '').trim())
    .filter((l) => l !== '' && !l.includes('keyrack:') && !l.includes('§P§') && !/^DONE\d+$/.test(l) && !l.includes("echo DO''NE"));
}
const hints = (out: string) => out.split(/\r?\n/).filter((l) => l.includes('keyrack:')).map((l) => l.replace(/^[\s\S]*?keyrack:/, 'keyrack:').trim());

const strict: Partial<Record<ShellName, string[]>> = {
  bash: ['set -uo pipefail', 'shopt -s failglob'],
  zsh: ['setopt nounset pipefail no_clobber warn_create_global no_unset'],
};

for (const shell of ['bash', 'zsh'] as const) {
  test(`${shell}: strict options before the hook line (${strict[shell]!.join('; ')}): installed, silent, and it works`, async (t) => {
    if (!requireTool(shell)) return t.skip(`${shell} missing`);
    const sb = sandbox();
    t.after(() => sb.cleanup());
    const proj = join(sb.dir, 'proj');
    mkdirSync(proj);
    writeFileSync(join(proj, '.keyrack'), 'RC_KEY\n');
    assert.equal((await keyrack(['set', 'RC_KEY', '--vault', 'os.direct'], { env: sb.env, input: `${VALUE}\n` })).code, 0);
    assert.equal((await keyrack(['allow', proj], { env: sb.env })).code, 0);
    const s = await ShellSession.start(shell, sb, { cwd: sb.dir, before: strict[shell] });
    try {
      assert.deepEqual(noise(s.pty.output), [], 'nothing but the prompt at start-up');
      const list = join(sb.dir, 'hooks');
      await s.run(shell === 'bash' ? `printf '%s\\n' "\${PROMPT_COMMAND[@]}" > ${list}` : `print -rl -- $precmd_functions > ${list}`);
      assert.match(readFileSync(list, 'utf8'), /__keyrack_hook/, 'the hook is installed');
      let out = await s.run(`cd ${proj}`);
      assert.deepEqual(hints(out), ['keyrack: +RC_KEY']);
      assert.deepEqual(noise(out), []);
      assert.equal((await s.env()).get('RC_KEY')?.toString(), VALUE);
      assert.equal(await s.statusAfter('false'), 1, '$? kept');
      out = await s.run('cd ..');
      assert.deepEqual(hints(out), ['keyrack: -RC_KEY']);
      assert.deepEqual(noise(out), []);
      assert.equal((await s.env()).has('RC_KEY'), false);
    } finally {
      await s.close();
    }
  });
}

const sbU = sandbox();
after(() => sbU.cleanup());

for (const shell of SHELLS) {
  test(`${shell}: a .keyrack that becomes unreadable: one keyrack line, no shell error at any prompt`, { skip: needsRoot('runs the shell as uid 65534') }, async (t) => {
    if (!requireTool(shell)) return t.skip(`${shell} missing`);
    const proj = join(sbU.dir, `${shell}-proj`);
    mkdirSync(proj);
    writeFileSync(join(proj, '.keyrack'), 'RC_KEY\n');
    const s = await ShellSession.start(shell, sbU, { cwd: sbU.dir, uid: NOBODY });
    const kr = keyrackCmd(shell);
    try {
      await s.run(`printf '%s\\n' '${VALUE}' | ${kr} set RC_KEY --vault os.direct`);
      await s.run(`${kr} allow ${proj}`);
      await s.run(`cd ${proj}`);
      assert.equal((await s.env()).get('RC_KEY')?.toString(), VALUE);

      chmodSync(join(proj, '.keyrack'), 0o000);
      let out = await s.run(':');
      assert.deepEqual(noise(out), [], 'no shell error');
      assert.equal(hints(out).length, 1, JSON.stringify(hints(out)));
      assert.match(hints(out)[0]!, /^keyrack: -RC_KEY; \S+\/\.keyrack: cannot be read: permission denied$/);
      assert.equal((await s.env()).has('RC_KEY'), false, 'unloaded: it can no longer be checked');
      for (let i = 0; i < 2; i++) {
        out = await s.run(':');
        assert.deepEqual([noise(out), hints(out)], [[], []], 'the next prompts are silent');
      }

      chmodSync(join(proj, '.keyrack'), 0o644);
      out = await s.run(':');
      assert.deepEqual(hints(out), ['keyrack: +RC_KEY'], 'readable again, the same trusted content');
    } finally {
      await s.close();
    }
  });
}
