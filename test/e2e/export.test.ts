/**
 * `keyrack export`'s diff, driven directly with the environment a shell would pass
 * (KEYRACK_STATE, current values): what is set, restored, forgotten; hints said
 * once; aws.sso keys expanded; failures that leave the shell alone.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyrack, requireTool, sandbox } from '../helpers.ts';

const sb = sandbox();
after(() => sb.cleanup());
const dirs = { p: join(sb.dir, 'p'), u: join(sb.dir, 'u'), out: join(sb.dir, 'out'), aws: join(sb.dir, 'aws'), alias: join(sb.dir, 'alias') };

const ok = async (args: string[], input = '') => {
  const r = await keyrack(args, { env: sb.env, input });
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
};

const ready = (async () => {
  for (const d of Object.values(dirs)) mkdirSync(d);
  await ok(['set', 'A', '--vault', 'os.direct'], 'value a\n');
  await ok(['set', 'B', '--vault', 'os.direct'], 'value b\n');
  writeFileSync(join(dirs.p, '.keyrack'), 'A\nB\nNOT_SET_UP\n');
  writeFileSync(join(dirs.u, '.keyrack'), 'A\n');
  await ok(['allow', dirs.p]);
})();

interface Json { set: Record<string, string>; unset: string[]; save: string[]; forget: string[]; state: string }

async function exportIn(dir: string, env: NodeJS.ProcessEnv = {}, shell = 'json') {
  const r = await keyrack(['export', shell], { env: { ...sb.env, PWD: dir, ...env }, cwd: dir });
  return { ...r, json: shell === 'json' && r.code === 0 ? JSON.parse(r.stdout) as Json : undefined };
}

test('enter, stay, leave: set, quiet when unchanged, unset; a hint is said once', async () => {
  await ready;
  const enter = await exportIn(dirs.p);
  assert.equal(enter.code, 0);
  assert.deepEqual(enter.json!.set, { A: 'value a', B: 'value b' });
  assert.deepEqual(enter.json!.save, ['A', 'B']);
  assert.match(enter.json!.state, /^1 @[0-9a-f]{8} A:[0-9a-f]{16} B:[0-9a-f]{16} ![0-9a-f]{8}$/);
  assert.equal(enter.stderr, 'keyrack: +A +B; NOT_SET_UP absent — run keyrack set NOT_SET_UP\n');
  assert.ok(!enter.json!.state.includes('value'), 'the state holds no value');

  const shellEnv = { A: 'value a', B: 'value b', KEYRACK_STATE: enter.json!.state };
  const stay = await exportIn(dirs.p, shellEnv, 'bash');
  assert.equal(stay.stdout, '', 'nothing to do, not even the state');
  assert.equal(stay.stderr, '', 'quiet: the hint was already said');

  const leave = await exportIn(dirs.out, shellEnv);
  assert.deepEqual(leave.json, { set: {}, unset: ['A', 'B'], save: [], forget: [], state: '' });
  assert.equal(leave.stderr, 'keyrack: -A -B\n');
});

test('a value changed by hand is the user\'s: kept while in scope, not removed on leaving', async () => {
  await ready;
  const enter = await exportIn(dirs.p, { A: 'had before' });
  assert.match(enter.json!.state, / A:[0-9a-f]{16}:p /, 'marks that A had a value before');
  const edited = { A: 'typed by hand', B: 'value b', KEYRACK_STATE: enter.json!.state };
  const stay = await exportIn(dirs.p, edited);
  assert.deepEqual(stay.json!.set, {});
  const leave = await exportIn(dirs.out, edited);
  assert.deepEqual(leave.json!.unset, ['B']);
  assert.deepEqual(leave.json!.forget, ['A']);
  assert.equal(leave.stderr, 'keyrack: -B\n');
});

test('a value changed in the vault is updated in place (~)', async () => {
  await ready;
  const enter = await exportIn(dirs.p);
  await ok(['set', 'B', '--vault', 'os.direct'], 'value b2\n');
  const again = await exportIn(dirs.p, { A: 'value a', B: 'value b', KEYRACK_STATE: enter.json!.state });
  assert.deepEqual(again.json!.set, { B: 'value b2' });
  assert.deepEqual(again.json!.save, []);
  assert.equal(again.stderr, 'keyrack: ~B\n');
  await ok(['set', 'B', '--vault', 'os.direct'], 'value b\n');
});

test('untrusted: nothing set, hint once; denied: a short note; a broken manifest unloads and says where', async () => {
  await ready;
  const first = await exportIn(dirs.u);
  assert.deepEqual(first.json!.set, {});
  assert.equal(first.stderr, 'keyrack: .keyrack is untrusted — run keyrack allow\n');
  const second = await exportIn(dirs.u, { KEYRACK_STATE: first.json!.state });
  assert.equal(second.stderr, '');

  await ok(['deny', dirs.u]);
  const denied = await exportIn(dirs.u, { KEYRACK_STATE: first.json!.state });
  assert.equal(denied.stderr, 'keyrack: .keyrack is denied — run keyrack allow to use it\n');

  const enter = await exportIn(dirs.p);
  const m = join(dirs.p, '.keyrack');
  const good = readFileSync(m, 'utf8');
  writeFileSync(m, good + 'NOT VALID\n');
  const broken = await exportIn(dirs.p, { A: 'value a', B: 'value b', KEYRACK_STATE: enter.json!.state });
  assert.deepEqual(broken.json!.unset, ['A', 'B']);
  assert.match(broken.stderr, /^keyrack: -A -B; .*\.keyrack:4: /);
  writeFileSync(m, good);
});

test('a failure that leaves this directory\'s keys unknown says so and unloads them: nothing stays by accident', async () => {
  await ready;
  const enter = await exportIn(dirs.p);
  const reg = join(sb.env.XDG_CONFIG_HOME!, 'keyrack', 'registry.json');
  const saved = readFileSync(reg);
  writeFileSync(reg, '{ not json');
  try {
    const r = await exportIn(dirs.p, { A: 'value a', B: 'value b', KEYRACK_STATE: enter.json!.state });
    assert.equal(r.code, 2, 'the user must act: the registry is broken');
    assert.deepEqual((JSON.parse(r.stdout) as Json).unset, ['A', 'B'], 'and what keyrack set is gone');
    const sh = await exportIn(dirs.p, { A: 'value a', B: 'value b', KEYRACK_STATE: enter.json!.state }, 'bash');
    assert.match(sh.stdout, /unset A;[\s\S]*unset B;[\s\S]*export KEYRACK_STATE=''/);
    assert.match(sh.stderr, /^keyrack: -A -B; .*registry\.json is not valid JSON.* — so this directory's keys are not loaded\n$/);
  } finally {
    writeFileSync(reg, saved);
  }
});

test('the fingerprint key is 32 random bytes, mode 600', async () => {
  await ready;
  await exportIn(dirs.p);
  const f = join(sb.env.XDG_DATA_HOME!, 'keyrack', 'fingerprint.key');
  assert.equal(statSync(f).size, 32);
  assert.equal(statSync(f).mode & 0o777, 0o600);
});

test('an aws.sso key expands to its AWS_* variables; renaming it is refused with a reason', async (t) => {
  if (!requireTool('aws')) return t.skip('aws missing');
  await ready;
  writeFileSync(join(dirs.aws, 'config'), '[profile static]\nregion = us-east-1\n');
  writeFileSync(join(dirs.aws, 'credentials'), '[static]\naws_access_key_id = AKIAEXPORTTEST00001\naws_secret_access_key = export/secret+1\n');
  Object.assign(sb.env, { AWS_CONFIG_FILE: join(dirs.aws, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dirs.aws, 'credentials') });
  await ok(['set', 'AWS_DEV', '--vault', 'aws.sso', '--profile', 'static']);
  await ok(['unlock', 'AWS_DEV']);
  writeFileSync(join(dirs.aws, '.keyrack'), 'AWS_DEV\nA\n');
  writeFileSync(join(dirs.alias, '.keyrack'), 'MY_AWS = AWS_DEV\nA\n');
  await ok(['allow', dirs.aws]);
  await ok(['allow', dirs.alias]);

  const r = await exportIn(dirs.aws);
  assert.deepEqual(r.json!.set, { AWS_ACCESS_KEY_ID: 'AKIAEXPORTTEST00001', AWS_SECRET_ACCESS_KEY: 'export/secret+1', AWS_SESSION_TOKEN: '', A: 'value a' });
  assert.equal(r.stderr, 'keyrack: +AWS_ACCESS_KEY_ID +AWS_SECRET_ACCESS_KEY +AWS_SESSION_TOKEN +A\n');

  const alias = await exportIn(dirs.alias);
  assert.deepEqual(alias.json!.set, { A: 'value a' });
  assert.match(alias.stderr, /MY_AWS = AWS_DEV: AWS_DEV sets several variables/);

  const exec = await keyrack(['exec', '--no-mask', '--', 'sh', '-c', 'printf %s "$AWS_ACCESS_KEY_ID"'], { env: { ...sb.env, PWD: dirs.aws }, cwd: dirs.aws });
  assert.equal(exec.stdout, 'AKIAEXPORTTEST00001');
});
