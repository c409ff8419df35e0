/**
 * Where secrets go on the new ways in (issue 16), proven from the outside as in
 * secret-hygiene.test.ts: tcsh's hook and gate, elvish's export, direnv's
 * `use keyrack` (exec and export json) under strace -f: a value is never in an
 * execve argv and never written to a file (other than the os.direct vault).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sandbox, run, requireTool, KEYRACK } from '../helpers.ts';

const secret = (tag: string) => `${tag}${randomBytes(12).toString('hex')}`;

test('tcsh, elvish and direnv: no secret in argv or in a file', async (t) => {
  for (const tool of ['strace', 'tcsh', 'elvish', 'direnv']) if (!requireTool(tool)) return t.skip(`${tool} missing`);
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const S1 = secret('SECURE');
  const S2 = secret('DIRECT');
  const proj = join(sb.dir, 'proj');
  mkdirSync(proj);
  writeFileSync(join(proj, '.keyrack'), 'S1\nS2\n');
  writeFileSync(join(proj, '.envrc'), 'use keyrack\n');
  writeFileSync(join(sb.dir, 's1'), S1, { mode: 0o600 });
  writeFileSync(join(sb.dir, 's2'), S2, { mode: 0o600 });
  const lib = join(sb.env.XDG_CONFIG_HOME!, 'direnv', 'lib');
  mkdirSync(lib, { recursive: true });
  const k = `"${process.execPath}" "${KEYRACK}"`;
  const script = `
set -e
trap '${k} daemon stop >/dev/null 2>&1 || :' EXIT
echo pw | ${k} init
${k} set S1 < "${sb.dir}/s1"
${k} set S2 --vault os.direct < "${sb.dir}/s2"
cd "${proj}"
${k} allow
echo pw | ${k} unlock S1
# tcsh: the hook as installed, then the gate as a prompt runs it (checks by builtins: no argv).
tcsh -f -c 'eval "\`${k} hook tcsh\`"; cd "${proj}"; set __keyrack_rc = 0; source $__keyrack_gate:q; if ( "$S1" != "\`cat ${sb.dir}/s1\`" ) exit 1'
# elvish: the code the hook evals.
elvish -norc -c 'var __keyrack_prev = [&]; eval (${k} export elvish | slurp) &ns=(ns [&__keyrack_prev=$__keyrack_prev]); if (not-eq $E:S1 (slurp < ${sb.dir}/s1)) { fail S1 }'
# direnv: use keyrack, through exec and export json.
${k} hook direnv > "${lib}/keyrack.sh"
direnv allow "${proj}"
direnv exec "${proj}" sh -c 'test "$S1" = "$(cat "${sb.dir}/s1")" && test "$S2" = "$(cat "${sb.dir}/s2")"'
direnv export json > /dev/null
${k} lock
`;
  const trace = join(sb.dir, 'trace');
  const r = await run('strace', ['-f', '-y', '-s', '1000000', '-e', 'trace=execve,write,writev,pwrite64', '-o', trace, 'bash', '-c', script], { env: sb.env, cwd: sb.dir });
  assert.equal(r.code, 0, r.stderr);
  const lines = readFileSync(trace, 'utf8').split('\n');
  const execs = lines.filter((l) => l.includes('execve('));
  for (const tool of ['/tcsh"', '/elvish"', '/direnv"']) assert.ok(execs.some((l) => l.includes(tool)), `the trace saw ${tool}`);
  for (const l of execs) for (const s of [S1, S2]) assert.ok(!l.includes(s), `a secret in argv: ${l.slice(0, 200)}`);
  const fileWrites = lines.filter((l) => /\b(write|writev|pwrite64)\(\d+<\//.test(l) && !/\(\d+<\/dev\/(null|pts)/.test(l));
  const direct = join(sb.env.XDG_DATA_HOME!, 'keyrack');
  for (const l of fileWrites) {
    const path = /\(\d+<([^>]*)>/.exec(l)?.[1] ?? '';
    if (l.includes(S2) && (path.startsWith(`${direct}/.direct.json.`) || path === `${direct}/direct.json`)) continue;
    for (const s of [S1, S2]) assert.ok(!l.includes(s), `a secret written to ${path}`);
  }
  // The values did travel, through pipes: the check can see them.
  assert.ok(lines.some((l) => /write\(\d+<pipe:/.test(l) && l.includes(S1)), 'S1 seen on a pipe');
});
