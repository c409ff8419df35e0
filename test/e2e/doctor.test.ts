/**
 * `keyrack doctor` checks that depend on the machine: an AWS CLI v1 first on PATH
 * (pip/pyenv installs shadow v2) is fine when a v2 sits at a standard location,
 * because aws.sso uses that one; and Yama's ptrace_scope, which decides whether
 * your other processes can ptrace the shells and commands holding your values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, keyrack, requireTool, sandbox } from '../helpers.ts';
import { PTRACE_SCOPE, ptraceFinding } from '../../src/commands/doctor.ts';

test('doctor: a v1 aws first on PATH with a v2 at /usr/bin/aws is not a failure', { skip: !requireTool('/usr/bin/aws') && 'needs the AWS CLI v2 at /usr/bin/aws' }, async () => {
  const sb = sandbox();
  try {
    const env = { ...sb.env, PATH: `${join(ROOT, 'test', 'fakes', 'aws-v1')}:${sb.env.PATH}`, KEYRACK_STATE: '' };
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
