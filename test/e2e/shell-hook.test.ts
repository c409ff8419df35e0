/**
 * The hook in real interactive bash, zsh and fish, driven through a pty as a
 * person would: cd into projects, read the environment raw from a child.
 * One shell session per scenario group; the vault is filled once for all.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyrack, requireTool, sandbox } from '../helpers.ts';
import { hostileValues, randomValues } from '../corpus.ts';
import { ALL_SHELLS, keyrackCmd, NOOP, ShellSession, type ShellName } from '../shell-session.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaemonConnection } from '../../src/daemon/client.ts';

/** Waits until a daemon answers: the hook's first export starts one in the background (native/autostart.c). */
async function daemonUp(env: NodeJS.ProcessEnv): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const c = await DaemonConnection.open(env);
    if (c) return c.close();
    await sleep(50);
  }
  assert.fail('the hook started no daemon');
}

const sb = sandbox();
after(() => sb.cleanup());
const canary = join(sb.dir, 'CANARY');

// `keyrack set` refuses an empty value; the quoting of '' is covered by quote.test.ts.
const secrets = [...hostileValues(canary), ...randomValues(0x5eed, 10)].filter((v) => v !== '');
const keyNames = secrets.map((_, i) => `KR_${i}`);
/** A variable the shell already has, which the project also sets. */
const PRE = 'KR_PRE';
const preValue = "mine: it's \"$HOME\"\n\\ \x1b[1m!";
const preSecret = 'pre-secret value $(touch ' + canary + ')';
const B_SECRET = 'b-only secret\nwith a second line';
const INNER_SECRET = 'inner wins';

async function setDirect(name: string, value: string): Promise<void> {
  // stdin loses exactly one trailing newline: add it so the value is exact.
  const r = await keyrack(['set', name, '--vault', 'os.direct'], { env: sb.env, input: value + '\n' });
  assert.equal(r.code, 0, `set ${name}: ${r.stderr}`);
}

const ready = (async () => {
  const all: Array<[string, string]> = [...keyNames.map((n, i): [string, string] => [n, secrets[i]!]),
    [PRE, preSecret], ['b-key', B_SECRET], ['inner.key', INNER_SECRET]];
  // `set` takes a registry lock: a few at a time is safe, and quicker than one by one.
  for (let i = 0; i < all.length; i += 4) await Promise.all(all.slice(i, i + 4).map(([n, v]) => setDirect(n, v)));
})();

/** Every secret a test may load, to scan the environment for leaks. */
const allSecrets = [...secrets, preSecret, B_SECRET, INNER_SECRET];

interface Projects { base: string; a: string; b: string; inner: string; u: string }

async function makeProjects(shell: ShellName): Promise<Projects> {
  const base = join(sb.dir, shell);
  const p = { base, a: join(base, 'a'), b: join(base, 'b'), inner: join(base, 'b', 'inner'), u: join(base, 'u') };
  for (const d of [p.a, join(p.a, 'sub', 'deeper'), p.b, p.inner, p.u]) mkdirSync(d, { recursive: true });
  writeFileSync(join(p.a, '.keyrack'), ['# project a', ...keyNames, PRE, 'MISSING_BUT_OPTIONAL?', ''].join('\n'));
  writeFileSync(join(p.b, '.keyrack'), 'B_SECRET = b-key\n');
  writeFileSync(join(p.inner, '.keyrack'), 'INNER = inner.key\n');
  writeFileSync(join(p.u, '.keyrack'), 'KR_0\n');
  for (const d of [p.a, p.b, p.inner]) {
    const r = await keyrack(['allow', d], { env: sb.env });
    assert.equal(r.code, 0, r.stderr);
  }
  return p;
}

const bytes = (s: string) => Buffer.from(s, 'utf8');

function assertLoadedA(env: Map<string, Buffer>): void {
  const wrong = keyNames.filter((n, i) => !env.get(n)?.equals(bytes(secrets[i]!)));
  assert.deepEqual(wrong, [], 'values not byte-exact');
  assert.deepEqual(env.get(PRE), bytes(preSecret));
  assert.equal(env.has('MISSING_BUT_OPTIONAL'), false);
}

/** No exported variable other than the ones keyrack set holds a secret value. */
function assertNoLeak(env: Map<string, Buffer>, allowed: Set<string>): void {
  for (const [name, value] of env) {
    if (allowed.has(name)) continue;
    for (const s of allSecrets) {
      if (s.length >= 6) assert.equal(value.includes(bytes(s)), false, `${name} holds a secret value`);
    }
  }
}

const noneOf = (env: Map<string, Buffer>, names: string[]) => assert.deepEqual(names.filter((n) => env.has(n)), []);
const hints = (out: string) => out.split(/\r?\n/).filter((l) => l.includes('keyrack:')).map((l) => l.replace(/^[\s\S]*?keyrack:/, 'keyrack:').trim());

/**
 * Processes started (forks and execs, not threads) between the first and second
 * exec of /bin/true after offset `from` of an strace log.
 */
function processesBetweenTrues(log: string, from: number): string[] {
  const lines = readFileSync(log, 'utf8').slice(from).split('\n');
  const trues = lines.flatMap((l, i) => (/execve\("\/bin\/true"/.test(l) ? [i] : []));
  assert.equal(trues.length, 2, 'expected the two bracketing /bin/true runs in the strace log');
  return lines.slice(trues[0]! + 1, trues[1])
    .filter((l) => /\b(execve|clone3?|v?fork)\(/.test(l) && !l.includes('CLONE_THREAD'));
}

for (const shell of ALL_SHELLS) {
  test(`${shell}: enter, stay, leave, sibling, nested, untrusted, edit, deny`, async (t) => {
    if (!requireTool(shell) || !requireTool('strace')) return t.skip('missing tools');
    await ready;
    const p = await makeProjects(shell);
    const kr = keyrackCmd(shell);
    const log = join(sb.dir, `${shell}.strace`);
    // tcsh: settings that change what its quotes mean, and the C locale, in which it
    // reads non-ASCII bytes from a pipe wrongly: the hook sets them aside while it reads.
    const before = shell === 'tcsh' ? ['set backslash_quote', "set histchars = '*^'"] : [];
    const env = { [PRE]: preValue, ...(shell === 'tcsh' ? { LANG: 'C' } : {}) };
    const s = await ShellSession.start(shell, sb, { cwd: p.base, env, straceLog: log, before });
    try {
      // Enter: every value byte-exact, nothing evaluated, nothing leaked elsewhere.
      let out = await s.run('cd a');
      assert.match(hints(out).join('\n'), /keyrack: \+KR_0 \+KR_1 /);
      let env = await s.env();
      assertLoadedA(env);
      assert.equal(existsSync(canary), false, 'a value was executed');
      assertNoLeak(env, new Set([...keyNames, PRE]));
      assert.match(env.get('KEYRACK_STATE')!.toString(), /^1 @[0-9a-f]{8} KR_0:[0-9a-f]{16} /);

      // Unchanged prompts, and cd within the project, start no process at all
      // (once the daemon the first cd started is up: its start is a child of the shell's hook).
      // A started daemon bumps the generation: the next prompt asks it once.
      await daemonUp(sb.env);
      await s.run(NOOP[shell]);
      const mark = statSync(log).size;
      await s.run('/bin/true');
      out = await s.run(NOOP[shell]);
      out += await s.run('cd sub/deeper');
      out += await s.run(NOOP[shell]);
      await s.run('/bin/true');
      const started = processesBetweenTrues(log, mark);
      assert.ok(started.length <= 1 && !started.some((l) => l.includes('execve')), `unchanged prompts started processes:\n${started.join('\n')}`);
      assert.deepEqual(hints(out), [], 'quiet when nothing changed');
      assertLoadedA(await s.env());

      // Leave: unset, and the value the shell had before is back, byte-exact.
      out = await s.run(`cd ${p.base}`);
      assert.match(hints(out).join('\n'), /keyrack: -KR_0 -KR_1 /);
      env = await s.env();
      noneOf(env, keyNames);
      assert.deepEqual(env.get(PRE), bytes(preValue));
      assert.equal(env.get('KEYRACK_STATE')?.toString(), '');

      // exec outside a project: the child gets the key, the shell keeps nothing.
      const file = join(sb.dir, `${shell}.exec-env`);
      await s.run(`${kr} exec --no-mask --key KR_1 -- env -0 > ${file}`);
      assert.ok(readFileSync(file).includes(Buffer.concat([bytes('\0KR_1='), bytes(secrets[1]!), Buffer.from([0])])));
      noneOf(await s.env(), ['KR_1']);

      // Sibling: only its keys. Nested: the nearest manifest wins.
      out = await s.run('cd b');
      assert.deepEqual(hints(out), ['keyrack: +B_SECRET']);
      env = await s.env();
      assert.deepEqual(env.get('B_SECRET'), bytes(B_SECRET));
      noneOf(env, keyNames);
      out = await s.run('cd inner');
      assert.deepEqual(hints(out), ['keyrack: +INNER -B_SECRET']);
      env = await s.env();
      assert.deepEqual(env.get('INNER'), bytes(INNER_SECRET));
      noneOf(env, ['B_SECRET']);
      await s.run('cd ..');
      env = await s.env();
      assert.deepEqual(env.get('B_SECRET'), bytes(B_SECRET));
      noneOf(env, ['INNER']);

      // Untrusted: nothing set, one hint, said once.
      out = await s.run(`cd ${p.u}`);
      assert.deepEqual(hints(out), ['keyrack: -B_SECRET; .keyrack is untrusted — run keyrack allow']);
      noneOf(await s.env(), ['KR_0', 'B_SECRET']);
      out = await s.run(NOOP[shell]);
      assert.deepEqual(hints(out), []);

      // Editing an allowed manifest withdraws the trust: unloaded at the next prompt, and it says the manifest changed.
      await s.run(`cd ${p.a}`);
      assertLoadedA(await s.env());
      appendFileSync(join(p.a, '.keyrack'), 'B_SECRET = b-key\n');
      out = await s.run(NOOP[shell]);
      assert.match(hints(out).join('\n'), /-KR_0 .*; \.keyrack changed since it was allowed — run keyrack allow to trust it again/);
      env = await s.env();
      noneOf(env, keyNames);
      assert.deepEqual(env.get(PRE), bytes(preValue));

      // allow → loaded at the next prompt; deny → unloaded at the next prompt.
      out = await s.run(`${kr} allow`);
      assert.match(hints(out).join('\n'), /keyrack: \+KR_0 .* … \(\+\d+\)$/, 'many keys: one short line');
      env = await s.env();
      assertLoadedA(env);
      assert.deepEqual(env.get('B_SECRET'), bytes(B_SECRET));
      out = await s.run(`${kr} deny`);
      assert.match(hints(out).join('\n'), /-KR_0 /);
      env = await s.env();
      noneOf(env, [...keyNames, 'B_SECRET']);
      assert.deepEqual(env.get(PRE), bytes(preValue));
      assert.equal(existsSync(canary), false, 'a value was executed');
    } finally {
      await s.close();
    }
  });
}
