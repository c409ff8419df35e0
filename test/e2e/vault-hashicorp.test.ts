/**
 * The hashicorp vault (Vault / OpenBao over HTTP, Node's own client) against
 * test/fakes/vault-server.ts, a stand-in that implements the documented API for
 * exactly the calls made and refuses anything else, over TLS with a test CA
 * named by VAULT_CACERT. KV v2 and v1, dynamic credentials whose lease bounds
 * the key and which the daemon renews and, at the lease's max TTL, reads again
 * (username and password staying a pair), and every failure's own message.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyrack, requireTool, run, sandbox, type Sandbox } from '../helpers.ts';
import { VaultServer } from '../fakes/vault-server.ts';
import { roundTrip } from '../vault-roundtrip.ts';

const OPENSSL = requireTool('openssl');
const TOKEN = 'hvs.CAESIJ-test-token-never-in-argv';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('hashicorp vault (stand-in Vault over TLS)', { skip: !OPENSSL }, () => {
  let sb: Sandbox;
  let vault: VaultServer;
  let cacert: string;
  const kr = (args: string[], env: NodeJS.ProcessEnv = sb.env) => keyrack(args, { env });
  const set = async (k: string, ref: string) => {
    const r = await kr(['set', k, '--vault', 'hashicorp', '--ref', ref]);
    assert.equal(r.code, 0, r.stderr);
  };
  const held = async () => (JSON.parse((await kr(['status', '--json'])).stdout) as { keys: Array<{ name: string; expiresAt: number; refresh: boolean; vault?: string }> }).keys;
  const get = async (k: string) => (await kr(['get', k])).stdout.replace(/\n$/, '');

  before(async () => {
    sb = sandbox();
    cacert = join(sb.dir, 'vault-ca.pem');
    const key = join(sb.dir, 'vault-key.pem');
    const g = await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cacert,
      '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], {});
    assert.equal(g.code, 0, g.stderr);
    vault = await VaultServer.start({
      token: TOKEN,
      namespace: 'team-a',
      mounts: { 'secret/': { type: 'kv', version: '2' }, 'kv/': { type: 'kv', version: '1' }, 'database/': { type: 'database' } },
      kv: {
        'secret/app': { data: { db_password: 'kv2 "pw" $x ✓', api_key: 'ak-123', port: 5432 } },
        'secret/solo': { data: { only: 'the only field' } },
        'secret/gone': { data: { x: 'y' }, deleted: true },
        'kv/legacy': { data: { token: 'v1-token' } },
      },
      roles: { app: { ttl: 10, maxTtl: 20, renewable: true }, fixed: { ttl: 8, maxTtl: 8, renewable: false } },
      tls: { key: readFileSync(key, 'utf8'), cert: readFileSync(cacert, 'utf8') },
    });
    // The token from ~/.vault-token, as `vault login` leaves it; the rest from the environment.
    writeFileSync(join(sb.home, '.vault-token'), `${TOKEN}\n`, { mode: 0o600 });
    Object.assign(sb.env, { VAULT_ADDR: vault.addr, VAULT_CACERT: cacert, VAULT_NAMESPACE: 'team-a', KEYRACK_REFRESH_WINDOW: '8s' });
  });
  after(async () => {
    const logs = ['daemon.log', 'audit.log'].map((f) => { try { return readFileSync(join(sb.env.XDG_STATE_HOME!, 'keyrack', f), 'utf8'); } catch { return ''; } }).join('');
    await vault.close();
    sb.cleanup();
    assert.ok(!logs.includes(TOKEN), 'the Vault token reached a log');
    assert.deepEqual(vault.violations, [], 'every request followed the documented API');
  });

  test('KV v2 and v1: round trip; fields of one path share one read; the mount preflight once per mount', async () => {
    await set('APP_DB', 'secret/app#db_password');
    await set('APP_KEY', 'secret/app#api_key');
    await set('APP_PORT', 'secret/app#port');
    await set('SOLO', 'secret/solo');
    await set('LEGACY', 'kv/legacy#token');
    const n = vault.requests.length;
    await roundTrip(sb, { APP_DB: 'kv2 "pw" $x ✓', APP_KEY: 'ak-123', APP_PORT: '5432', SOLO: 'the only field', LEGACY: 'v1-token' });
    const reqs = vault.requests.slice(n).map((r) => `${r.method} ${r.path}`).sort();
    assert.deepEqual(reqs.filter((r) => !r.includes('sys/internal')), ['GET kv/legacy', 'GET secret/data/app', 'GET secret/data/solo']);
    assert.ok(reqs.filter((r) => r.includes('sys/internal/ui/mounts/secret/')).length <= 2, reqs.join('\n'));
    const keys = await held();
    assert.equal(keys.find((k) => k.name === 'APP_DB')!.refresh, false, 'a KV secret has no lease');
    assert.equal(keys.find((k) => k.name === 'APP_DB')!.vault, 'hashicorp');
  });

  test('dynamic credentials: the lease bounds the key; the daemon renews it, then at its max TTL reads a new pair', async () => {
    await set('DB_USER', 'database/creds/app#username');
    await set('DB_PASS', 'database/creds/app#password');
    const before = vault.requests.length;
    const u = await kr(['unlock', 'DB_USER', 'DB_PASS']);
    assert.equal(u.code, 0, u.stderr);
    assert.match(u.stderr, /DB_USER until its vault expiry in \d+s/);
    assert.equal(vault.requests.slice(before).filter((r) => r.path === 'database/creds/app').length, 1, 'one read for both fields');
    const lease1 = [...vault.leases.keys()].pop()!;
    assert.deepEqual({ username: await get('DB_USER'), password: await get('DB_PASS') }, vault.credsOf(lease1));
    let keys = await held();
    const exp0 = keys.find((k) => k.name === 'DB_USER')!.expiresAt;
    assert.ok(exp0 <= Date.now() + 10_000 && keys.find((k) => k.name === 'DB_USER')!.refresh, 'lives no longer than its 10 s lease, and refreshes');

    // Renewal (window 8 s, lease 10 s): the same credentials, a later expiry.
    let exp = exp0;
    for (let i = 0; i < 30 && exp <= exp0; i++) {
      await sleep(1000);
      exp = (await held()).find((k) => k.name === 'DB_USER')?.expiresAt ?? exp;
    }
    assert.ok(exp > exp0, 'the daemon did not renew the lease');
    assert.ok(vault.requests.some((r) => r.method === 'POST' && r.path === 'sys/leases/renew'));
    assert.equal(await get('DB_USER'), vault.credsOf(lease1).username, 'a renewal keeps the credentials');

    // The lease's max TTL is 20 s: renewal stops extending it, so the daemon reads new ones.
    let user = await get('DB_USER');
    for (let i = 0; i < 40 && user === vault.credsOf(lease1).username; i++) {
      await sleep(1000);
      user = await get('DB_USER');
    }
    assert.notEqual(user, vault.credsOf(lease1).username, 'the daemon did not read new credentials');
    const lease2 = [...vault.leases.keys()].find((id) => vault.credsOf(id).username === user)!;
    assert.equal(await get('DB_PASS'), vault.credsOf(lease2).password, 'username and password come from the same lease');
    assert.equal(vault.requests.slice(before).filter((r) => r.path === 'database/creds/app').length, 2, 'one re-read for both keys');
    keys = await held();
    assert.ok(keys.find((k) => k.name === 'DB_PASS')!.expiresAt > exp);
  });

  test('a lease that cannot be renewed is read again before it ends', async () => {
    await set('FIXED', 'database/creds/fixed#password');
    assert.equal((await kr(['unlock', 'FIXED'])).code, 0);
    const first = await get('FIXED');
    let now = first;
    for (let i = 0; i < 30 && now === first; i++) {
      await sleep(1000);
      now = await get('FIXED');
    }
    assert.notEqual(now, first, 'the daemon did not re-read the non-renewable lease');
    assert.match(now, /^pw-lease\d+-secret$/);
  });

  test('absent, deleted, a missing or unnamed field, a bad or missing token, sealed: each its own message', async () => {
    await set('NOPE', 'secret/nope#x');
    await set('GONE', 'secret/gone#x');
    await set('NOFIELD', 'secret/app#nope');
    await set('WHICH', 'secret/app');
    let r = await kr(['unlock', 'NOPE', 'GONE', 'NOFIELD', 'WHICH']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /NOPE: hashicorp \(secret\/nope\): there is no secret at secret\/data\/nope \(404\); fix the reference, or write it with vault kv put/);
    assert.match(r.stderr, /GONE: hashicorp \(secret\/gone\): the latest version of secret\/gone was deleted \(version 2\)/);
    assert.match(r.stderr, /NOFIELD: hashicorp \(secret\/app\): secret\/app has no field "nope"/);
    assert.match(r.stderr, /WHICH: hashicorp \(secret\/app\): secret\/app has 3 fields \(db_password, api_key, port\); name one with #FIELD/);
    assert.equal((await kr(['lock'])).code, 0); // unlock leaves a held key as it is: each below fetches
    r = await kr(['unlock', 'APP_DB'], { ...sb.env, VAULT_TOKEN: 'hvs.wrong' });
    assert.match(r.stderr, /APP_DB: hashicorp \(secret\/app\): permission denied \(403: permission denied\) — the token is expired or may not read .*; run vault login/);
    const noToken = { ...sb.env, HOME: join(sb.dir, 'elsewhere') };
    r = await kr(['unlock', 'APP_DB'], noToken);
    assert.match(r.stderr, /APP_DB: hashicorp: no Vault token: set VAULT_TOKEN, or run vault login \(it writes ~\/\.vault-token\)/);
    vault.sealed = true;
    try {
      r = await kr(['unlock', 'APP_DB']);
      assert.match(r.stderr, /APP_DB: hashicorp \(secret\/app\): Vault is sealed \(503\)/);
      const d = await kr(['doctor']);
      assert.match(d.stdout, /^FAIL {2}hashicorp: Vault at https:\/\/127\.0\.0\.1:\d+, namespace team-a is sealed$/m);
    } finally {
      vault.sealed = false;
    }
    const d = await kr(['doctor']);
    assert.match(d.stdout, /^ok {4}hashicorp: Vault at https:\/\/127\.0\.0\.1:\d+, namespace team-a answers \(unsealed\)$/m);
  });

  test('unreachable, no CA for its certificate, plain http to another host, a hung Vault: each its own message', async () => {
    assert.equal((await kr(['lock'])).code, 0); // unlock leaves a held key as it is: each below fetches
    let r = await kr(['unlock', 'APP_DB'], { ...sb.env, VAULT_ADDR: 'https://127.0.0.1:9' });
    assert.match(r.stderr, /APP_DB: hashicorp: cannot reach Vault at https:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\); set VAULT_ADDR to your Vault's address/);
    const noCa: NodeJS.ProcessEnv = { ...sb.env, VAULT_SKIP_VERIFY: 'true' };
    delete noCa.VAULT_CACERT;
    r = await kr(['unlock', 'APP_DB'], noCa);
    assert.match(r.stderr, /APP_DB: hashicorp: TLS to Vault at https:\/\/127\.0\.0\.1:\d+ failed \([A-Z_]+\); set VAULT_CACERT to the CA that signed its certificate \(keyrack does not honour VAULT_SKIP_VERIFY\)/);
    r = await kr(['unlock', 'APP_DB'], { ...sb.env, VAULT_ADDR: 'http://vault.example.com:8200' });
    assert.match(r.stderr, /APP_DB: hashicorp: VAULT_ADDR http:\/\/vault\.example\.com:8200 is plain http to another host, so the token would cross the network unencrypted/);
    vault.hang.add('secret/data/app');
    try {
      r = await kr(['unlock', 'APP_DB', 'LEGACY'], { ...sb.env, KEYRACK_HASHICORP_TIMEOUT: '1' });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /APP_DB: hashicorp: no answer from Vault at https:\/\/127\.0\.0\.1:\d+ within 1s; is it reachable \(VPN\)\?/);
      assert.doesNotMatch(r.stderr, /LEGACY:/);
    } finally {
      vault.hang.delete('secret/data/app');
    }
  });

  test('unlock runs the vaults side by side: a Vault read and a cmd program that wait for each other both finish', async () => {
    // Vault answers secret/data/app only once the cmd program ran; the program
    // finishes only once Vault got the request. One vault after the other would
    // deadlock until a timeout; side by side, both unlock.
    const asked = join(sb.dir, 'vault-was-asked');
    const ran = join(sb.dir, 'cmd-ran');
    vault.beforeAnswer = async (path) => {
      if (path !== 'secret/data/app') return;
      writeFileSync(asked, '');
      for (let i = 0; i < 400 && !existsSync(ran); i++) await sleep(25);
    };
    try {
      const r0 = await kr(['set', 'RENDEZVOUS', '--vault', 'cmd', '--', 'sh', '-c', `while [ ! -e '${asked}' ]; do sleep 0.02; done; touch '${ran}'; echo met`]);
      assert.equal(r0.code, 0, r0.stderr);
      await kr(['lock']);
      const r = await kr(['unlock', 'APP_DB', 'RENDEZVOUS'], { ...sb.env, KEYRACK_CMD_TIMEOUT: '8', KEYRACK_HASHICORP_TIMEOUT: '8' });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await get('RENDEZVOUS'), 'met');
      assert.equal(await get('APP_DB'), 'kv2 "pw" $x ✓');
    } finally {
      vault.beforeAnswer = undefined;
    }
  });

  test('set refuses references that can never name a secret', async () => {
    for (const [ref, re] of [['secret', /at least two segments/], ['secret//x', /none empty/], ['secret/x#', /name a field after '#'/], ['secret/x?version=1', /contains '\?'/]] as const) {
      const r = await kr(['set', 'BAD', '--vault', 'hashicorp', '--ref', ref]);
      assert.equal(r.code, 2, ref);
      assert.match(r.stderr, re);
    }
  });
});
