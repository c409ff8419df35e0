import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, keyrack, run, requireTool, KEYRACK } from '../helpers.ts';
import { Pty } from '../pty.ts';

test('completion scripts load in their shells and complete commands', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const b = await keyrack(['completion', 'bash'], { env: sb.env });
  assert.equal(b.code, 0);
  const r = await run('bash', ['-c', `${b.stdout}\nCOMP_WORDS=(keyrack unl); COMP_CWORD=1; _keyrack_complete; echo "\${COMPREPLY[*]}"\nCOMP_WORDS=(keyrack set K --vault os.); COMP_CWORD=4; _keyrack_complete; echo "\${COMPREPLY[*]}"`], { env: sb.env });
  assert.equal(r.stdout, 'unlock\nos.secure os.direct\n', r.stderr);
  for (const shell of ['zsh', 'fish']) {
    if (!requireTool(shell)) { t.diagnostic(`${shell} not installed: not checked`); continue; }
    const s = await keyrack(['completion', shell], { env: sb.env });
    assert.equal(s.code, 0);
    const check = await run(shell, ['-n', '-c', s.stdout], { env: sb.env });
    assert.equal(check.code, 0, `${shell} -n: ${check.stderr}`);
    assert.equal(check.stderr, '', `${shell} -n reports syntax errors on stderr (fish exits 0)`);
  }
  // Every command the CLI has is offered (the completion table is written by hand).
  const help = await keyrack(['--help'], { env: sb.env });
  const commands = [...help.stdout.matchAll(/^  (\w+)(?: [<[][^\s]*)?\s{2,}/gm)].map((m) => m[1]!);
  assert.ok(commands.length >= 18, help.stdout);
  const all = await run('bash', ['-c', `${b.stdout}\nCOMP_WORDS=(keyrack ''); COMP_CWORD=1; _keyrack_complete; echo "\${COMPREPLY[*]}"`], { env: sb.env });
  assert.deepEqual(all.stdout.trim().split(' ').filter((w) => !w.startsWith('-')).sort(), [...commands].sort());
  const bad = await keyrack(['completion', 'ksh'], { env: sb.env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no completion for shell 'ksh'/);
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
      for (const [typed, completed] of [['keyrack unl', 'unlock'], ['keyrack hook tc', 'tcsh'], ['keyrack export dir', 'direnv'], ['keyrack get MY_', 'MY_TOKEN'], ['keyrack unlock --tt', '--ttl']]) {
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
