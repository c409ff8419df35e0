/**
 * Defence in depth (issue 10, item 1): whatever a daemon answers — even one that
 * passed the kernel check, here a fake one in this very session — keyrack-fast
 * prints for the hook only statements export renders (src/shells, as the generated
 * native/export_rules.h holds them) and sets for exec only names the manifest rules
 * accept. Anything else: one keyrack: line, nothing printed or set from it, and the
 * Node CLI (here /bin/false, so a hand-over is plain to see) takes over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { KEYRACK, ROOT, run, sandbox } from '../helpers.ts';
import { hostileValues, randomValues } from '../corpus.ts';
import { socketPath } from '../../src/paths.ts';
import { EXPORT_SHELLS } from '../../src/shells/index.ts';
import type { Changes } from '../../src/shells/shell.ts';

const FAST = join(ROOT, 'native', 'build', 'Release', 'keyrack-fast');
const FAKE = join(ROOT, 'test', 'sockets', 'fake-daemon.mjs');

async function withFake(fn: (o: { answer(a: object): void; env: NodeJS.ProcessEnv; dir: string; sock: string }) => Promise<void>): Promise<void> {
  const sb = sandbox();
  const sock = socketPath(sb.env, true);
  const answers = join(sb.dir, 'answers.json');
  writeFileSync(answers, '{}');
  const fake = spawn(process.execPath, [FAKE, sock, answers], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  createInterface({ input: fake.stdout }).on('line', (l) => lines.push(l));
  try {
    for (let i = 0; i < 250 && !lines.some((l) => l.startsWith('listening')); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(lines.some((l) => l.startsWith('listening')), 'the fake daemon is up');
    await fn({ answer: (a) => writeFileSync(answers, JSON.stringify(a)), env: { ...sb.env, PWD: sb.dir }, dir: sb.dir, sock });
    assert.ok(lines.filter((l) => l === 'connection').length > 0, 'keyrack-fast talked to the fake daemon');
  } finally {
    fake.kill('SIGTERM');
    await new Promise((r) => fake.once('close', r));
    sb.cleanup();
  }
}

const exportAnswer = (stdout: string) => ({ export: { stdout, stderr: 'keyrack: +A\n' } });
const refusedLine = (sock: string, what: string, why: RegExp) =>
  new RegExp(`^keyrack: refusing the ${what} the daemon on ${sock.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} sent: ${why.source}\\n$`);

test('every statement the shells render, with hostile values, passes keyrack-fast unchanged', async () => {
  await withFake(async ({ answer, env, dir }) => {
    const canary = join(dir, 'CANARY');
    const values = [...hostileValues(canary), ...randomValues(0x6b72, 100)].filter((v) => !v.includes('\0'));
    const names = values.map((_, i) => `KR_V${i}`);
    const changes: Changes = {
      save: names.slice(0, 20), set: values.map((v, i) => [names[i]!, v]),
      unset: ['GONE_A', 'GONE_B'], forget: ['FORGOT'], state: `1 ${values.slice(0, 30).join('')}`, stateChanged: true,
    };
    // The shells keyrack-fast answers itself (tcsh, elvish and direnv go to the Node CLI: fast-export.test.ts).
    for (const [name, shell] of Object.entries(EXPORT_SHELLS).filter(([n]) => ['bash', 'zsh', 'fish', 'json'].includes(n))) {
      const stdout = shell.render(changes);
      answer(exportAnswer(stdout));
      const r = await run(FAST, ['/bin/false', KEYRACK, 'export', name], { env, cwd: dir });
      assert.equal(r.stderr, 'keyrack: +A\n', `${name}: no refusal`);
      assert.deepEqual([r.code, r.stdout === stdout], [0, true], `${name}: printed exactly as rendered`);
    }
    // Nothing to do is an empty answer, and a state-only one is fine too.
    for (const stdout of ['', "export KEYRACK_STATE='1 x'\n"]) {
      answer(exportAnswer(stdout));
      const r = await run(FAST, ['/bin/false', KEYRACK, 'export', 'bash'], { env, cwd: dir });
      assert.deepEqual([r.code, r.stdout], [0, stdout]);
    }
    assert.equal(existsSync(canary), false);
  });
});

test('an export answer keyrack would never print is refused: one line, nothing printed, node takes over', async () => {
  await withFake(async ({ answer, env, dir, sock }) => {
    const cases: Array<[string, string, RegExp]> = [
      ['bash', "export BASH_ENV='/tmp/x'\n", /statement 1 sets BASH_ENV, which keyrack never sets/],
      ['bash', "export A='ok'\nexport PROMPT_COMMAND='touch PWNED'\n", /statement 2 sets PROMPT_COMMAND, which keyrack never sets/],
      ['bash', "export LD_PRELOAD='/tmp/x.so'\n", /statement 1 sets LD_PRELOAD, which keyrack never sets/],
      ['bash', 'unset __keyrack_prev_KEYRACK_STATE\n', /statement 1 sets KEYRACK_STATE, which keyrack never sets/],
      ['bash', 'rm -rf ~\n', /statement 1 is not one keyrack writes/],
      ['bash', "export A='x'; touch PWNED\n", /statement 1 is not one keyrack writes/],
      ['bash', "export A='x' B='y'\n", /statement 1 is not one keyrack writes/],
      ['bash', "export A='x\n", /statement 1 is not one keyrack writes/],
      ['bash', "export A='x'\\''\n", /statement 1 is not one keyrack writes/],
      ['bash', 'export A=x\n', /statement 1 is not one keyrack writes/],
      ['bash', 'export A="$(touch PWNED)"\n', /statement 1 is not one keyrack writes/],
      ['bash', "export A='x'", /statement 1 is not one keyrack writes/],
      ['bash', "export A='a\0b'\n", /it holds a NUL byte/],
      ['bash', 'if [[ -n ${__keyrack_prev_A+x} ]]; then export PATH="$__keyrack_prev_A"; unset __keyrack_prev_A; else unset A; fi\n', /statement 1 is not one keyrack writes/],
      ['zsh', "export A='ok'\ntypeset -g A=x\n", /statement 2 is not one keyrack writes/],
      ['zsh', "export ZDOTDIR='/tmp'\n", /statement 1 sets ZDOTDIR, which keyrack never sets/],
      ['fish', "set -gx fish_function_path '/tmp'\n", /statement 1 sets fish_function_path, which keyrack never sets/],
      ['fish', "set -gx A 'x\\y'\n", /statement 1 is not one keyrack writes/],
      ['fish', "set -gx A 'x'; rm -rf ~\n", /statement 1 is not one keyrack writes/],
      ['fish', "export A='x'\n", /statement 1 is not one keyrack writes/],
      ['json', '{"set":{"BASH_ENV":"x"},"unset":[],"save":[],"forget":[],"state":""}\n', /it sets BASH_ENV, which keyrack never sets/],
      ['json', '{"set":{},"unset":["PATH"],"save":[],"forget":[],"state":""}\n', /it sets PATH, which keyrack never sets/],
      ['json', '{"set":{},"unset":[],"save":[],"forget":[],"state":"","run":"x"}\n', /it is not the JSON keyrack writes/],
    ];
    for (const [shell, stdout, why] of cases) {
      answer(exportAnswer(stdout));
      const r = await run(FAST, ['/bin/false', KEYRACK, 'export', shell], { env, cwd: dir });
      const label = `${shell} ${JSON.stringify(stdout)}`;
      assert.deepEqual([r.code, r.stdout], [1, ''], `${label}: nothing printed, /bin/false ran`);
      assert.match(r.stderr, refusedLine(sock, 'export', why), label);
    }
  });
});

test('exec variables keyrack would never set are refused: one line, nothing set, the command does not run', async () => {
  await withFake(async ({ answer, env, dir, sock }) => {
    const ran = join(dir, 'RAN');
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ A: 'ok', BASH_ENV: '/tmp/evil.sh' }, /BASH_ENV is a name keyrack never sets/],
      [{ LD_PRELOAD: '/tmp/x.so' }, /LD_PRELOAD is a name keyrack never sets/],
      [{ KEYRACK_STATE: 'x' }, /KEYRACK_STATE is a name keyrack never sets/],
      [{ 'A B': 'x' }, /A B is a name keyrack never sets/],
      [{ 'A=B': 'x' }, /A=B is a name keyrack never sets/],
      [{ '\x1b]0;pwned\x07': 'x' }, /\\e\]0;pwned\\x07 is a name keyrack never sets/],
      [{ A: 'a\0b' }, /a value holds a NUL byte/],
    ];
    for (const [vars, why] of cases) {
      answer({ 'exec-env': { vars } });
      const r = await run(FAST, ['/bin/false', KEYRACK, 'exec', '--no-mask', '--', 'sh', '-c', `touch ${ran}`], { env, cwd: dir });
      assert.deepEqual([r.code, r.stdout], [1, ''], `${JSON.stringify(vars)}: /bin/false ran instead`);
      assert.match(r.stderr, refusedLine(sock, 'variables', why), JSON.stringify(vars));
      assert.equal(existsSync(ran), false, `${JSON.stringify(vars)}: the command did not run`);
    }
    // And what keyrack does set goes through.
    answer({ 'exec-env': { vars: { A: 'ok', npm_token: 'y' } } });
    const ok = await run(FAST, ['/bin/false', KEYRACK, 'exec', '--no-mask', '--', 'sh', '-c', 'printf %s "$A $npm_token"'], { env, cwd: dir });
    assert.deepEqual([ok.code, ok.stdout, ok.stderr], [0, 'ok y', '']);
  });
});
