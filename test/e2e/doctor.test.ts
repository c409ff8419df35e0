/**
 * `keyrack doctor` checks what a user's setup needs (issue 15, item 4): the
 * identity when os.secure keys exist, a file or value for every registered key, an
 * XDG_RUNTIME_DIR that exists (and the daemon creates it, or refuses it clearly),
 * a vault's CLI only when a key uses that vault; and the machine: an AWS CLI v1 first
 * on PATH is fine when a v2 sits at a standard location, because aws.sso uses that
 * one; and Yama's ptrace_scope, which decides whether your other processes can
 * ptrace the shells and commands holding your values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, keyrack, requireTool, sandbox } from '../helpers.ts';
import { PTRACE_SCOPE, ptraceFinding } from '../../src/commands/doctor.ts';

test('doctor: a v1 aws first on PATH with a v2 at /usr/bin/aws is not a failure', { skip: !requireTool('/usr/bin/aws') && 'needs the AWS CLI v2 at /usr/bin/aws' }, async () => {
  const sb = sandbox();
  try {
    const env = { ...sb.env, PATH: `${join(ROOT, 'test', 'fakes', 'aws-v1')}:${sb.env.PATH}`, KEYRACK_STATE: '' };
    // doctor looks at the AWS CLI only for someone with aws.sso keys.
    assert.equal((await keyrack(['set', 'AWS_DEV', '--vault', 'aws.sso', '--profile', 'dev'], { env })).code, 0);
    const r = await keyrack(['doctor'], { env });
    assert.match(r.stdout, /^ok\s+aws: \S+\/aws-v1\/aws \(v1\.29\.0\) is first on PATH; aws\.sso uses the v2 at \/usr\/bin\/aws$/m);
    assert.doesNotMatch(r.stdout, /FAIL.*aws/);
  } finally {
    sb.cleanup();
  }
});

test('doctor judges the runtime dir by the rule the daemon uses: ours and exactly 0700', async () => {
  const sb = sandbox();
  try {
    const run = sb.env.XDG_RUNTIME_DIR!;
    const line = async () => (await keyrack(['doctor'], { env: sb.env })).stdout.split('\n').find((l) => l.includes('runtime dir')) ?? '';
    assert.match(await line(), /^ok\s+runtime dir \S+: yours, 700$/);
    // No bit for others, yet not 0700: not a runtime dir by XDG's rule, nor by paths.ts's.
    for (const mode of [0o500, 0o600, 0o711]) {
      chmodSync(run, mode);
      assert.match(await line(), new RegExp(`^FAIL\\s+runtime dir \\S+ has mode ${mode.toString(8)}$`), mode.toString(8));
    }
  } finally {
    chmodSync(sb.env.XDG_RUNTIME_DIR!, 0o700);
    sb.cleanup();
  }
});

test('doctor: ptrace_scope, what each value leaves open and how to raise it', () => {
  const none = ptraceFinding(null);
  assert.equal(none.level, 'warn');
  assert.match(none.what, /^ptrace: Yama not available \(no \/proc\/sys\/kernel\/yama\/ptrace_scope\): any process of your uid, in any login session, can ptrace/);
  const zero = ptraceFinding('0\n');
  assert.equal(zero.level, 'warn');
  assert.match(zero.what, /^ptrace: Yama ptrace_scope 0: any process of your uid/);
  assert.match(zero.fix ?? '', /sysctl kernel\.yama\.ptrace_scope=1.*\/etc\/sysctl\.d\//);
  for (const [v, who] of [['1\n', /only a process's ancestors/], ['2', /only root/], ['3', /nobody may ptrace/]] as const) {
    const f = ptraceFinding(v);
    assert.equal(f.level, 'ok', v);
    assert.match(f.what, who);
  }
  // Yama never restricts /proc/<pid>/environ: every finding says so.
  for (const v of [null, '0', '1', '3']) assert.match(ptraceFinding(v).what, /\/proc\/<pid>\/environ is readable by your uid whatever ptrace_scope says/);
  assert.equal(ptraceFinding('x').level, 'warn');
});

test('doctor reports this machine\'s ptrace_scope', async () => {
  const sb = sandbox();
  try {
    let scope: string | null = null;
    try {
      scope = readFileSync(PTRACE_SCOPE, 'utf8');
    } catch { /* no Yama here */ }
    const expected = ptraceFinding(scope);
    const r = await keyrack(['doctor'], { env: { ...sb.env, KEYRACK_STATE: '' } });
    const lines = r.stdout.split('\n');
    const at = lines.indexOf(`${expected.level.padEnd(4)}  ${expected.what}`);
    assert.ok(at !== -1, `doctor says: ${r.stdout}`);
    if (expected.fix) assert.equal(lines[at + 1], `      fix: ${expected.fix}`);
    assert.match(r.stdout, scope === null ? /Yama not available/ : new RegExp(`ptrace_scope ${scope.trim()}:`));
  } finally {
    sb.cleanup();
  }
});

test('doctor finds what is broken in the user\'s own setup: no identity, key files gone, a value missing', async (t) => {
  const sb = sandbox({ KEYRACK_STATE: '' });
  t.after(() => sb.cleanup());
  const kr = (args: string[], input = '') => keyrack(args, { env: sb.env, input });
  // A fresh setup with a key of each local vault: all well.
  assert.equal((await kr(['init'], 'pw\n')).code, 0);
  assert.equal((await kr(['set', 'SEC'], 'v\n')).code, 0);
  assert.equal((await kr(['set', 'DIR', '--vault', 'os.direct'], 'v\n')).code, 0);
  let r = await kr(['doctor']);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /^ok +os\.secure identity ~\/\.local\/share\/keyrack\/secure\/identity\.age/m);
  assert.match(r.stdout, /^ok +os\.direct: a value for each of its 1 key/m);
  assert.doesNotMatch(r.stdout, /\bop\b|1Password|AWS CLI|aws:/, 'no word about the CLIs of vaults nobody uses');

  // The key's file gone; then the os.direct value; then the identity itself.
  rmSync(join(sb.env.XDG_DATA_HOME!, 'keyrack', 'secure', 'keys', 'SEC.age'));
  writeFileSync(join(sb.env.XDG_DATA_HOME!, 'keyrack', 'direct.json'), '{"version":1,"values":{}}\n', { mode: 0o600 });
  r = await kr(['doctor']);
  assert.equal(r.code, 2);
  assert.match(r.stdout, /^FAIL +SEC: registered in os\.secure, but its file is missing \(~\/\.local\/share\/keyrack\/secure\/keys\/SEC\.age\)\n +fix: keyrack set SEC/m);
  assert.match(r.stdout, /^FAIL +DIR: registered in os\.direct, but ~\/\.local\/share\/keyrack\/direct\.json holds no value for it/m);
  rmSync(join(sb.env.XDG_DATA_HOME!, 'keyrack', 'secure'), { recursive: true });
  r = await kr(['doctor']);
  assert.match(r.stdout, /^FAIL +no os\.secure identity \(~\/\.local\/share\/keyrack\/secure\/identity\.age\), but a key uses os\.secure \(SEC\)[^\n]*\n +fix: restore your backup: keyrack restore FILE/m);

  // A vault's CLI matters once a key uses it.
  assert.equal((await kr(['set', 'OP_KEY', '--vault', '1password', '--ref', 'op://V/item/field'])).code, 0);
  r = await keyrack(['doctor'], { env: { ...sb.env, PATH: '/usr/bin:/bin' } });
  assert.match(r.stdout, /^FAIL +op \(1Password CLI\) not on PATH, but 1password keys are registered/m);
});

test('an XDG_RUNTIME_DIR that does not exist: doctor says so; unlock and daemon run refuse it clearly, or create it', async (t) => {
  const sb = sandbox({ KEYRACK_STATE: '' });
  t.after(() => sb.cleanup());
  assert.equal((await keyrack(['init'], { env: sb.env, input: 'pw\n' })).code, 0);
  assert.equal((await keyrack(['set', 'SEC'], { env: sb.env, input: 'v\n' })).code, 0);
  const gone = { ...sb.env, XDG_RUNTIME_DIR: join(sb.dir, 'no', 'such', 'run') };
  const doc = await keyrack(['doctor'], { env: gone });
  assert.equal(doc.code, 2);
  assert.match(doc.stdout, /^FAIL +XDG_RUNTIME_DIR is \S+\/no\/such\/run, but neither it nor the directory above it exists: the daemon cannot start\n +fix: unset XDG_RUNTIME_DIR/m);
  for (const args of [['unlock', 'SEC'], ['daemon', 'run'], ['daemon', 'start']]) {
    const r = await keyrack(args, { env: gone, input: 'pw\n' });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^keyrack: XDG_RUNTIME_DIR is \S+\/no\/such\/run, but neither it nor the directory above it exists — .*mkdir -m 700/, args.join(' '));
    assert.doesNotMatch(r.stderr, /ENOENT|daemon\.log/, args.join(' '));
  }
  // Its parent there: the daemon makes it, 0700, and serves.
  mkdirSync(join(sb.dir, 'no', 'such'), { recursive: true });
  assert.match((await keyrack(['doctor'], { env: gone })).stdout, /^warn +XDG_RUNTIME_DIR is \S+, which does not exist: .*creates it 0700/m);
  const r = await keyrack(['unlock', 'SEC'], { env: gone, input: 'pw\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.match((await keyrack(['doctor'], { env: gone })).stdout, /^ok +runtime dir \S+\/no\/such\/run: yours, 700$/m);
  await keyrack(['daemon', 'stop'], { env: gone });
});
