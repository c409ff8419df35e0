/**
 * The daemon's environment whitelist: what a background refresh needs (proxies, a
 * private CA bundle, the vault timeouts) survives; anything else a shell holds —
 * exported secrets first of all — does not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonEnv } from '../../src/daemon/env.ts';

test('daemonEnv keeps proxy, CA and timeout settings and drops everything else', () => {
  const kept = {
    HOME: '/h', PATH: '/bin', LANG: 'C.UTF-8', LC_ALL: 'C', XDG_RUNTIME_DIR: '/run/user/1',
    HTTPS_PROXY: 'http://proxy:3128', https_proxy: 'http://proxy:3128', HTTP_PROXY: 'http://proxy:3128',
    http_proxy: 'http://proxy:3128', NO_PROXY: 'localhost', no_proxy: '.internal', AWS_CA_BUNDLE: '/etc/ca.pem',
    KEYRACK_AWS_TIMEOUT: '90', KEYRACK_OP_TIMEOUT: '20', KEYRACK_SSO_LOGIN_TIMEOUT: '600',
    AWS_CONFIG_FILE: '/h/aws', KEYRACK_REFRESH_WINDOW: '10m',
  };
  const dropped = {
    GITHUB_TOKEN: 'ghp_secret', AWS_SECRET_ACCESS_KEY: 'x', AWS_PROFILE: 'prod', KEYRACK_STATE: 'names',
    NODE_OPTIONS: '--require /tmp/evil.js', LD_PRELOAD: '/tmp/evil.so', ALL_PROXY: 'socks5://x', OLDPWD: '/tmp',
  };
  assert.deepEqual(daemonEnv({ ...kept, ...dropped }), kept);
});
