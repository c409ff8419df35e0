/**
 * The audit log names the program (issue 14): every `keyrack exec` is one `exec`
 * record with the program the client was about to run (resolved path and argv[0],
 * marked client-reported) beside what the kernel attests; `keyrack log --key K`
 * after three execs names the three programs. And exec's unlock on a terminal is
 * bounded: the key it unlocks is held for exec only — no export, so no hooked
 * shell, gets it — until a plain `keyrack unlock`.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveProgram } from '../../src/program.ts';
import { KEYRACK, ROOT, keyrack, requireTool, run, sandbox } from '../helpers.ts';
import { Pty } from '../pty.ts';

const FAST = join(ROOT, 'native', 'build', 'Release', 'keyrack-fast');
const sb = sandbox();
after(() => sb.cleanup());
const proj = join(sb.dir, 'proj');
const VALUE = 'audited-value-5c2e91';
const inProj = { env: { ...sb.env, PWD: proj }, cwd: proj };

interface Rec { op: string; keys?: string[]; exe: string | null; program?: { path: string | null; argv0: string; reported: string } }

async function records(): Promise<Rec[]> {
  const r = await keyrack(['log', '--key', 'AUDITED', '--json'], inProj);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Rec);
}

before(async () => {
  mkdirSync(proj);
  const ok = async (args: string[], input = '') => {
    const r = await keyrack(args, { ...inProj, input });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  };
  await ok(['init'], 'pass phrase\n');
  await ok(['set', 'AUDITED'], `${VALUE}\n`);
  writeFileSync(join(proj, '.keyrack'), 'AUDITED\n');
  await ok(['allow', proj]);
  await ok(['unlock'], 'pass phrase\n');
});

test('keyrack log --key K after three execs names the three programs, one exec record each, client-reported', async () => {
  const before = (await records()).length;
  const a = await run(FAST, ['/bin/false', KEYRACK, 'exec', '--', 'true'], inProj); // /bin/false: the fast path must answer
  assert.equal(a.code, 0, a.stderr);
  const b = await run(FAST, ['/bin/false', KEYRACK, 'exec', '--no-mask', '--', 'printenv', 'AUDITED'], inProj);
  assert.equal(b.stdout, `${VALUE}\n`, b.stderr);
  const c = await keyrack(['exec', '--', 'sh', '-c', 'exit 0'], inProj); // the Node CLI's exec path
  assert.equal(c.code, 0, c.stderr);

  const recs = (await records()).slice(before);
  assert.deepEqual(recs.map((r) => r.op), ['exec', 'exec', 'exec'], 'one exec record per exec, nothing logged as get');
  const want = ['true', 'printenv', 'sh'].map((p) => ({ path: resolveProgram(p, sb.env.PATH), argv0: p, reported: 'client' }));
  assert.deepEqual(recs.map((r) => r.program), want);
  for (const r of recs) assert.deepEqual(r.keys, ['AUDITED']);
  // The kernel-attested exe is still there, beside it: keyrack's own client (non-dumpable ones show as null + comm).
  assert.ok(recs.every((r) => 'exe' in r));

  const text = await keyrack(['log', '--key', 'AUDITED'], inProj);
  const lines = text.stdout.trimEnd().split('\n').slice(-3);
  lines.forEach((l, i) => assert.ok(l.includes(`ran ${want[i]!.path} (client-reported)`), `text log line names the program: ${l}`));
});

test('exec on a terminal unlocks a locked key for exec only: one exec record, no export gets it, a plain unlock makes it ordinary', async (t) => {
  if (!requireTool('python3')) return t.skip('python3 missing');
  assert.equal((await keyrack(['lock', 'AUDITED'], inProj)).code, 0);
  const before = (await records()).length;
  const pty = new Pty([process.execPath, KEYRACK, 'exec', '--', 'sh', '-c', 'echo "got:${AUDITED}"'], { cwd: proj, env: { ...sb.env, PWD: proj } });
  await pty.expect('AUDITED is locked — unlocking for keyrack exec only');
  await pty.expect(/passphrase/i);
  pty.write('pass phrase\r');
  await pty.expect(`got:${VALUE}`);
  assert.equal(await pty.exited, 0);
  assert.match(pty.output, /unlocked 1 key for 15m for keyrack exec only/);

  const recs = (await records()).slice(before);
  assert.deepEqual(recs.map((r) => [r.op, r.program?.argv0]), [['exec', 'sh']], 'one exec record, naming sh (not a get by node)');

  // Held for exec only: no export (CLI, keyrack-fast, json) gets it; exec does, with no prompt.
  for (const shell of ['bash', 'json']) {
    const cli = await keyrack(['export', shell], inProj);
    assert.equal(cli.stdout.includes(VALUE), false, `CLI export ${shell}`);
    const fast = await run(FAST, ['/bin/false', KEYRACK, 'export', shell], inProj);
    assert.equal(fast.code, 0, fast.stderr);
    assert.equal(fast.stdout.includes(VALUE), false, `keyrack-fast export ${shell}`);
  }
  const status = JSON.parse((await keyrack(['status', '--json'], inProj)).stdout) as { keys: Array<{ name: string; execOnly?: true; secondsLeft: number }> };
  const held = status.keys.find((k) => k.name === 'AUDITED');
  assert.equal(held?.execOnly, true, 'status says it is held for exec only');
  assert.ok(held.secondsLeft <= 15 * 60, `held 15 min at most (${held.secondsLeft}s)`);
  const again = await run(FAST, ['/bin/false', KEYRACK, 'exec', '--no-mask', '--', 'printenv', 'AUDITED'], inProj);
  assert.equal(again.stdout, `${VALUE}\n`, 'the next exec gets it without a prompt');

  assert.equal((await keyrack(['unlock'], { ...inProj, input: 'pass phrase\n' })).code, 0);
  const exported = await keyrack(['export', 'json'], inProj);
  assert.ok(exported.stdout.includes(VALUE), 'after keyrack unlock: an ordinary key, exported');
});
