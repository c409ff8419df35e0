/**
 * `keyrack doctor` checks that depend on the machine: an AWS CLI v1 first on PATH
 * (pip/pyenv installs shadow v2) is fine when a v2 sits at a standard location,
 * because aws.sso uses that one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
