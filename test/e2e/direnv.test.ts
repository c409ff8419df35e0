/**
 * direnv's own `.envrc` can load keyrack's keys: `keyrack hook direnv` saved as
 * direnv's lib/keyrack.sh gives `use keyrack`. Real direnv from Debian: `direnv
 * allow`, `direnv exec`, `direnv export json` (what editors run), direnv's bash hook
 * alone on a pty (it reloads when keyrack's answer changes: unlock, lock, an edited
 * manifest), and direnv's and keyrack's bash hooks together, in both orders.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { keyrack, requireTool, run, sandbox } from '../helpers.ts';
import { hostileValues, randomValues } from '../corpus.ts';
import { keyrackCmd, ShellSession } from '../shell-session.ts';
import { generationPath } from '../../src/paths.ts';

const PASS = 'direnv test passphrase';
const SECURE = "secure: it's $(nope)\nline 2";
const DIRECT = 'direct value';
const PRE = "the shell's own value";

const sb = sandbox();
after(() => sb.cleanup());
const canary = join(sb.dir, 'CANARY');
const secrets = [...hostileValues(canary), ...randomValues(0xd1e, 10)].filter((v) => v !== '');
const names = secrets.map((_, i) => `DR_${i}`);

async function ok(args: string[], input = ''): Promise<void> {
  const r = await keyrack(args, { env: sb.env, input });
  assert.equal(r.code, 0, `keyrack ${args.join(' ')}: ${r.stderr}`);
}

const libDir = join(sb.env.XDG_CONFIG_HOME!, 'direnv', 'lib');
const ready = (async () => {
  await ok(['init'], `${PASS}\n`);
  await ok(['set', 'SECURE_KEY'], `${SECURE}\n`);
  await ok(['set', 'DIRECT_KEY', '--vault', 'os.direct'], `${DIRECT}\n`);
  for (let i = 0; i < names.length; i += 4) {
    await Promise.all(names.slice(i, i + 4).map((n, j) => ok(['set', n, '--vault', 'os.direct'], `${secrets[i + j]!}\n`)));
  }
  // As the README says: the hook's output saved as direnv's lib/keyrack.sh.
  mkdirSync(libDir, { recursive: true });
  const hook = await keyrack(['hook', 'direnv'], { env: sb.env });
  assert.equal(hook.code, 0, hook.stderr);
  writeFileSync(join(libDir, 'keyrack.sh'), hook.stdout);
})();

/** A project with a .keyrack (allowed unless told) and an .envrc that says `use keyrack` (direnv-allowed). */
async function project(name: string, manifest: string, allowed = true): Promise<string> {
  const dir = join(sb.dir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, '.keyrack'), manifest);
  writeFileSync(join(dir, '.envrc'), 'use keyrack\n');
  if (allowed) await ok(['allow', dir]);
  const r = await run('direnv', ['allow', dir], { env: sb.env, cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  return dir;
}

/** direnv's own variables hold base64url zlib JSON. */
const unpack = <T>(v: string): T => JSON.parse(inflateSync(Buffer.from(v, 'base64url')).toString('utf8')) as T;

async function exportJson(dir: string, env: NodeJS.ProcessEnv = sb.env): Promise<{ vars: Record<string, string | null>; stderr: string }> {
  const r = await run('direnv', ['export', 'json'], { env, cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  return { vars: r.stdout.trim() ? JSON.parse(r.stdout) as Record<string, string | null> : {}, stderr: r.stderr };
}

const DIRENV_OWN = ['DIRENV_DIFF', 'DIRENV_DIR', 'DIRENV_FILE', 'DIRENV_WATCHES'];

test('direnv exec: every hostile value byte-exact, nothing runs', async (t) => {
  if (!requireTool('direnv')) return t.skip('direnv missing');
  await ready;
  const dir = await project('exec', names.join('\n') + '\n');
  const out = join(sb.dir, 'exec.env');
  const r = await run('direnv', ['exec', dir, 'sh', '-c', `env -0 > ${out}`], { env: sb.env, cwd: sb.dir });
  assert.equal(r.code, 0, r.stderr);
  const raw = Buffer.concat([Buffer.from([0]), readFileSync(out)]); // each entry after a NUL
  const wrong = names.filter((n, i) => !raw.includes(Buffer.concat([Buffer.from(`\0${n}=`), Buffer.from(secrets[i]!), Buffer.from([0])])));
  assert.deepEqual(wrong, [], 'values not byte-exact through direnv');
  assert.equal(readdirSync(sb.dir).includes('CANARY'), false, 'a value was executed');
});

test('direnv export json: exactly the manifest\'s keys, whatever KEYRACK_STATE says; what DIRENV_DIFF holds; what direnv watches', async (t) => {
  if (!requireTool('direnv')) return t.skip('direnv missing');
  await ready;
  const dir = await project('json', 'DIRECT_KEY\nOPTIONAL_KEY?\n');
  // A shell whose keyrack hook already owns DIRECT_KEY: direnv gets it all the same.
  const owned = await keyrack(['export', 'bash'], { env: { ...sb.env, PWD: dir }, cwd: dir });
  const state = /KEYRACK_STATE='?([^'\n]*)/.exec(owned.stdout)?.[1] ?? '';
  assert.match(state, /^1 (@[0-9a-f]+ )?DIRECT_KEY:/);
  const { vars, stderr } = await exportJson(dir, { ...sb.env, KEYRACK_STATE: state, DIRECT_KEY: PRE });
  assert.deepEqual(Object.keys(vars).sort(), ['DIRECT_KEY', ...DIRENV_OWN].sort(), 'nothing of keyrack\'s own (KEYRACK_STATE, saved copies)');
  assert.equal(vars.DIRECT_KEY, DIRECT);
  assert.doesNotMatch(stderr, /keyrack:/, 'nothing to say when all is loaded');
  // direnv's record of what it changed, to undo it on leave: the new value and the
  // one it replaced, in the clear (zlib, base64), in a variable every child sees.
  const diff = unpack<{ p: Record<string, string>; n: Record<string, string> }>(vars.DIRENV_DIFF!);
  assert.equal(diff.n.DIRECT_KEY, DIRECT);
  assert.equal(diff.p.DIRECT_KEY, PRE);
  // It watches the generation file (unlock, lock, expiry, allow, deny) and the manifest.
  const watches = unpack<Array<{ Path: string }>>(vars.DIRENV_WATCHES!).map((w) => w.Path);
  assert.ok(watches.includes(generationPath(sb.env)), `watches: ${watches.join(' ')}`);
  assert.ok(watches.includes(join(dir, '.keyrack')), `watches: ${watches.join(' ')}`);
});

test('use keyrack keeps keyrack\'s rules: an untrusted manifest, a refused name, a locked key', async (t) => {
  if (!requireTool('direnv')) return t.skip('direnv missing');
  await ready;
  const untrusted = await project('untrusted', 'DIRECT_KEY\n', false);
  let r = await exportJson(untrusted);
  assert.deepEqual(Object.keys(r.vars).filter((k) => !DIRENV_OWN.includes(k)), []);
  assert.match(r.stderr, /keyrack: \.keyrack is untrusted — run keyrack allow/);
  // Watched all the same: `keyrack allow` there loads it at the next prompt.
  assert.ok(unpack<Array<{ Path: string }>>(r.vars.DIRENV_WATCHES!).some((w) => w.Path === join(untrusted, '.keyrack')));

  const refused = await project('refused', 'DIRECT_KEY\nLD_PRELOAD = DIRECT_KEY\n', false);
  r = await exportJson(refused);
  assert.deepEqual(Object.keys(r.vars).filter((k) => !DIRENV_OWN.includes(k)), []);
  assert.match(r.stderr, /keyrack: .*\.keyrack:2: LD_PRELOAD changes how programs or shells run/);

  const locked = await project('locked', 'SECURE_KEY\nDIRECT_KEY\n');
  r = await exportJson(locked);
  assert.equal(r.vars.DIRECT_KEY, DIRECT);
  assert.equal('SECURE_KEY' in r.vars, false);
  assert.match(r.stderr, /keyrack: SECURE_KEY locked — run keyrack unlock/);
});

const hints = (out: string) => out.split(/\r?\n/).filter((l) => l.includes('keyrack:')).map((l) => l.replace(/^[\s\S]*?keyrack:/, 'keyrack:').trim());

/** Until the clock has passed a whole second: direnv compares a watched file's mtime in seconds. */
async function nextSecond(): Promise<void> {
  const s = Math.floor(Date.now() / 1000);
  while (Math.floor(Date.now() / 1000) === s) await sleep(20);
}

test('direnv\'s bash hook alone reloads on unlock, lock and an edited manifest; no value reaches a file', async (t) => {
  if (!requireTool('direnv')) return t.skip('direnv missing');
  await ready;
  const dir = await project('alone', 'SECURE_KEY\nDIRECT_KEY\n');
  const s = await ShellSession.start('bash', sb, { cwd: sb.dir, before: ['eval "$(direnv hook bash)"'], env: { DIRECT_KEY: PRE } });
  try {
    // Only direnv's hook: keyrack's own is not installed in this shell.
    await s.run('unset -f __keyrack_hook; PROMPT_COMMAND=_direnv_hook; unset KEYRACK_STATE');
    let out = await s.run(`cd ${dir}`);
    assert.match(out, /keyrack: SECURE_KEY locked — run keyrack unlock/);
    let env = await s.env();
    assert.equal(env.get('DIRECT_KEY')?.toString(), DIRECT);
    assert.equal(env.has('SECURE_KEY'), false);
    assert.equal(env.has('KEYRACK_STATE'), false, 'direnv is given no state of keyrack\'s');

    const kr = keyrackCmd('bash');
    await s.run(`printf '%s\\n' '${PASS}' | ${kr} unlock`);
    env = await s.env();
    assert.equal(env.get('SECURE_KEY')?.toString(), SECURE, 'unlock: direnv reloaded');

    await s.run(`${kr} lock`);
    env = await s.env();
    assert.equal(env.has('SECURE_KEY'), false, 'lock: direnv reloaded');
    await s.run(`printf '%s\\n' '${PASS}' | ${kr} unlock`);
    assert.equal((await s.env()).get('SECURE_KEY')?.toString(), SECURE);

    // An edit withdraws keyrack's trust: direnv sees the new mtime and unloads.
    await nextSecond();
    appendFileSync(join(dir, '.keyrack'), 'OTHER?\n');
    out = await s.run(':');
    assert.match(out, /keyrack: \.keyrack changed since it was allowed — run keyrack allow/);
    env = await s.env();
    assert.equal(env.has('SECURE_KEY'), false);
    assert.equal(env.get('DIRECT_KEY')?.toString(), PRE, 'direnv restored the shell\'s own value');

    await s.run(`${kr} allow`);
    assert.equal((await s.env()).get('SECURE_KEY')?.toString(), SECURE, 'allow: direnv reloaded');
    await s.run(`cd ${sb.dir}`);
    env = await s.env();
    assert.equal(env.has('SECURE_KEY'), false);
    assert.equal(env.get('DIRECT_KEY')?.toString(), PRE);
    assert.equal(env.has('DIRENV_DIFF'), false);
  } finally {
    await s.close();
  }
  // Nothing keyrack or direnv wrote holds the os.secure value (os.direct is plaintext by design).
  const leaks: string[] = [];
  const scan = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) scan(p);
      else if (e.isFile() && statSync(p).size < 16 << 20 && readFileSync(p).includes(Buffer.from(SECURE))) leaks.push(p);
    }
  };
  scan(sb.dir);
  assert.deepEqual(leaks, [], 'a file holds the os.secure value');
});

for (const order of ['direnv first', 'keyrack first'] as const) {
  test(`direnv's and keyrack's bash hooks together (${order} at the prompt): the same keys, unlock and lock seen, restored on leave`, async (t) => {
    if (!requireTool('direnv')) return t.skip('direnv missing');
    await ready;
    await ok(['lock']);
    const dir = await project(`both-${order.split(' ')[0]}`, 'SECURE_KEY\nDIRECT_KEY\n');
    // Each hook puts itself first in PROMPT_COMMAND: the one installed last runs first.
    const direnvHook = 'eval "$(direnv hook bash)"';
    const s = await ShellSession.start('bash', sb, {
      cwd: sb.dir, env: { DIRECT_KEY: PRE },
      ...(order === 'direnv first' ? { after: [direnvHook] } : { before: [direnvHook] }),
    });
    try {
      const pc = join(sb.dir, `both-${order.split(' ')[0]}.pc`);
      await s.run(`printf '%s\\n' "$PROMPT_COMMAND" > ${pc}`);
      assert.match(readFileSync(pc, 'utf8'), order === 'direnv first' ? /^_direnv_hook;__keyrack_hook/ : /^__keyrack_hook;_direnv_hook/);

      await s.run(`cd ${dir}`);
      let env = await s.env();
      assert.equal(env.get('DIRECT_KEY')?.toString(), DIRECT);
      assert.equal(env.has('SECURE_KEY'), false);

      const kr = keyrackCmd('bash');
      await s.run(`printf '%s\\n' '${PASS}' | ${kr} unlock`);
      env = await s.env();
      assert.equal(env.get('SECURE_KEY')?.toString(), SECURE);
      await s.run(`${kr} lock`);
      env = await s.env();
      assert.equal(env.has('SECURE_KEY'), false, 'lock: gone, whichever hook ran first');
      await s.run(`printf '%s\\n' '${PASS}' | ${kr} unlock`);
      assert.equal((await s.env()).get('SECURE_KEY')?.toString(), SECURE);

      const out = await s.run(`cd ${sb.dir}`);
      env = await s.env();
      assert.equal(env.has('SECURE_KEY'), false);
      assert.equal(env.get('DIRECT_KEY')?.toString(), PRE, 'the shell\'s own value is back');
      assert.equal(env.has('DIRENV_DIFF'), false);
      assert.equal(env.get('KEYRACK_STATE')?.toString(), '');
      assert.ok(hints(out).every((h) => !/error|fail/i.test(h)), out);
    } finally {
      await s.close();
    }
  });
}
