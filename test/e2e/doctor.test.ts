/**
 * `keyrack doctor` checks that depend on the machine: an AWS CLI v1 first on PATH
 * (pip/pyenv installs shadow v2) is fine when a v2 sits at a standard location,
 * because aws.sso uses that one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, keyrack, requireTool, sandbox } from '../helpers.ts';

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
