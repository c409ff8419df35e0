/**
 * Exec-only keys (issue 14): a key marked by the user (`set/mark --exec-only`) or
 * by its manifest line (`NAME exec-only`) never enters a hooked bash, zsh or fish
 * environment nor any `export` answer — the Node CLI's, keyrack-fast's through the
 * daemon, json — and still reaches `keyrack exec -- env`. A real daemon holds an
 * os.secure exec-only key, so the daemon's own export op is what refuses it.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEYRACK, ROOT, keyrack, run, sandbox } from '../helpers.ts';
import { SHELLS, ShellSession } from '../shell-session.ts';

const FAST = join(ROOT, 'native', 'build', 'Release', 'keyrack-fast');
const sb = sandbox();
after(() => sb.cleanup());
const proj = join(sb.dir, 'proj');

const VALUES = {
  OPEN_KEY: 'open-value-4f1c9a',
  MARKED_KEY: 'marked-value-77e2d0', // os.direct, `set --exec-only`
  HELD_KEY: 'held-value-b3a51e', // os.secure, held by the daemon, `mark --exec-only`
  LINE_KEY: 'line-value-c08d42', // os.direct, marked on its manifest line only
};
const EXEC_ONLY = ['MARKED_KEY', 'HELD_KEY', 'LINE_KEY'] as const;
const inProj = { env: { ...sb.env, PWD: proj }, cwd: proj };

async function ok(args: string[], input = ''): Promise<string> {
  const r = await keyrack(args, { ...inProj, input });
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stderr;
}

before(async () => {
  mkdirSync(proj);
  await ok(['init'], 'pass phrase\n');
  await ok(['set', 'OPEN_KEY', '--vault', 'os.direct'], `${VALUES.OPEN_KEY}\n`);
  const said = await ok(['set', 'MARKED_KEY', '--vault', 'os.direct', '--exec-only'], `${VALUES.MARKED_KEY}\n`);
  assert.match(said, /MARKED_KEY is exec-only/);
  await ok(['set', 'HELD_KEY'], `${VALUES.HELD_KEY}\n`);
  await ok(['mark', 'HELD_KEY', '--exec-only']);
  await ok(['set', 'LINE_KEY', '--vault', 'os.direct'], `${VALUES.LINE_KEY}\n`);
  writeFileSync(join(proj, '.keyrack'), 'OPEN_KEY\nMARKED_KEY\nHELD_KEY\nLINE_KEY   exec-only   # the project says so\n');
  await ok(['allow', proj]);
  await ok(['unlock', 'HELD_KEY'], 'pass phrase\n');
});

/** No exec-only value anywhere in `text`. */
function assertNoExecOnly(text: string, where: string): void {
  for (const k of EXEC_ONLY) assert.equal(text.includes(VALUES[k]), false, `${where}: ${k}'s value leaked`);
}

test('no export answer carries an exec-only value: the CLI (bash, zsh, fish, json) and keyrack-fast through the daemon', async () => {
  for (const shell of ['bash', 'zsh', 'fish', 'json']) {
    const cli = await keyrack(['export', shell], inProj);
    assert.equal(cli.code, 0, cli.stderr);
    assert.ok(cli.stdout.includes(VALUES.OPEN_KEY), `CLI ${shell}: the open key is exported`);
    assertNoExecOnly(cli.stdout + cli.stderr, `CLI export ${shell}`);
    assert.match(cli.stderr, /3 keys \(MARKED_KEY, HELD_KEY, LINE_KEY\) exec-only/, `CLI ${shell}: the hook's line says so`);

    const fast = await run(FAST, ['/bin/false', KEYRACK, 'export', shell], inProj); // /bin/false: a hand-over would fail
    assert.equal(fast.code, 0, `keyrack-fast ${shell} answered from the daemon: ${fast.stderr}`);
    assert.ok(fast.stdout.includes(VALUES.OPEN_KEY), `fast ${shell}: the open key is exported`);
    assertNoExecOnly(fast.stdout + fast.stderr, `fast export ${shell}`);
  }
  const json = JSON.parse((await keyrack(['export', 'json'], inProj)).stdout) as { set: Record<string, string> };
  assert.deepEqual(Object.keys(json.set), ['OPEN_KEY']);
});

test('the daemon enforces it: a raw export request over the socket gets no exec-only value, get and exec-env do', async () => {
  const { withDaemon } = await import('../../src/daemon/client.ts');
  const env = { ...sb.env, PWD: proj };
  const got = await withDaemon(env, async (c) => ({
    exp: await c.request({ op: 'export', shell: 'json', cwd: proj, env: env as Record<string, string> }),
    get: await c.request({ op: 'get', keys: ['HELD_KEY'], purpose: 'export' }),
    plain: await c.request({ op: 'get', keys: ['HELD_KEY'] }),
    exec: await c.request({ op: 'exec-env', cwd: proj, env: env as Record<string, string>, keys: [] }),
  }));
  assert.ok(got);
  assertNoExecOnly(got.exp.stdout + got.exp.stderr, 'export op');
  assert.deepEqual(got.get.keys, {}, 'get for an export: not the exec-only key');
  assert.equal((got.plain.keys.HELD_KEY as { value: string }).value, VALUES.HELD_KEY, 'keyrack get still gets it');
  for (const k of EXEC_ONLY) assert.equal(got.exec.vars[k], VALUES[k], `exec-env hands out ${k}`);
});

test('keyrack exec -- env (keyrack-fast and the Node CLI) includes exec-only keys', async () => {
  const viaFast = await run(FAST, ['/bin/false', KEYRACK, 'exec', '--no-mask', '--', 'env'], inProj);
  const viaNode = await keyrack(['exec', '--no-mask', '--', 'env'], inProj);
  for (const [what, r] of [['keyrack-fast', viaFast], ['node', viaNode]] as const) {
    assert.equal(r.code, 0, `${what}: ${r.stderr}`);
    for (const [k, v] of Object.entries(VALUES)) assert.ok(r.stdout.includes(`${k}=${v}\n`), `${what}: ${k} reaches the command`);
  }
});

test('status and list say which keys are exec-only', async () => {
  const status = JSON.parse((await keyrack(['status', '--json'], inProj)).stdout) as { manifest: { entries: Array<{ env: string; execOnly?: true }> } };
  assert.deepEqual(status.manifest.entries.filter((e) => e.execOnly).map((e) => e.env), [...EXEC_ONLY]);
  const list = JSON.parse((await keyrack(['list', '--json'], inProj)).stdout) as { keys: Array<{ name: string; execOnly?: true }> };
  assert.deepEqual(list.keys.filter((k) => k.execOnly).map((k) => k.name), ['HELD_KEY', 'MARKED_KEY'], 'the registry marks (not the manifest line)');
  assert.match((await keyrack(['status'], inProj)).stdout, /LINE_KEY\s+ready \(exec-only/);
});

test('mark refuses without a flag or for an unknown key (exit 2), and changes nothing', async () => {
  const none = await keyrack(['mark', 'OPEN_KEY'], inProj);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--exec-only or --no-exec-only/);
  const unknown = await keyrack(['mark', 'NO_SUCH_KEY', '--exec-only'], inProj);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /NO_SUCH_KEY is absent/);
  const list = JSON.parse((await keyrack(['list', '--json'], inProj)).stdout) as { keys: Array<{ name: string; execOnly?: true }> };
  assert.equal(list.keys.find((k) => k.name === 'OPEN_KEY')!.execOnly, undefined);
});

for (const shell of SHELLS) {
  test(`${shell}: a hooked shell never holds an exec-only key; mark --no-exec-only lets the registry-marked one in, the line-marked one stays out`, async () => {
    const s = await ShellSession.start(shell, sb, { cwd: sb.dir });
    try {
      const out = await s.run(`cd ${proj}`);
      assert.match(out, /\+OPEN_KEY/);
      assert.match(out, /exec-only/);
      let env = await s.env();
      assert.equal(env.get('OPEN_KEY')?.toString(), VALUES.OPEN_KEY);
      for (const k of EXEC_ONLY) assert.equal(env.has(k), false, `${k} is not in the shell`);
      const all = [...env.values()].map((v) => v.toString('latin1')).join('\n');
      assertNoExecOnly(all, `${shell} environment`);

      // From this shell, exec still hands them to the command (and the shell keeps none).
      const file = join(sb.dir, `exec-env.${shell}`);
      await s.run(`${process.execPath} ${KEYRACK} exec --no-mask -- env > ${file}`);
      const ran = readFileSync(file, 'utf8');
      for (const k of EXEC_ONLY) assert.ok(ran.includes(`${k}=${VALUES[k]}\n`), `${shell}: exec passes ${k}`);
      assertNoExecOnly([...(await s.env()).values()].map((v) => v.toString('latin1')).join('\n'), `${shell} after exec`);
      // Loosening the user's mark lets MARKED_KEY in at the next prompt; the manifest's line keeps LINE_KEY out.
      await s.run(`${process.execPath} ${KEYRACK} mark MARKED_KEY --no-exec-only`);
      await s.run('true');
      env = await s.env();
      assert.equal(env.get('MARKED_KEY')?.toString(), VALUES.MARKED_KEY, 'unmarked: the hook sets it');
      assert.equal(env.has('LINE_KEY'), false, 'the manifest line still keeps LINE_KEY out');
      assert.equal(env.has('HELD_KEY'), false);
      // And marking it again takes it out of the shell at the next prompt.
      await s.run(`${process.execPath} ${KEYRACK} mark MARKED_KEY --exec-only`);
      await s.run('true');
      env = await s.env();
      assert.equal(env.has('MARKED_KEY'), false, 'marked again: the hook unsets it');
    } finally {
      await s.close();
    }
  });
}
