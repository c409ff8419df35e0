import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sandbox, keyrack, run, requireTool } from '../helpers.ts';

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
  const bad = await keyrack(['completion', 'tcsh'], { env: sb.env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no completion for shell 'tcsh'/);
});
