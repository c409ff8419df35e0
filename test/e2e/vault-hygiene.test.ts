/**
 * Where the new vaults' secrets go, proven from the outside as
 * secret-hygiene.test.ts does for the local vaults: storing into the keyring,
 * then unlocking keyring, pass, cmd and hashicorp keys and reading them back,
 * all under strace -f. No value, and not the Vault token, may appear in any
 * execve argv or in any write to a regular file; values travel on pipes and the
 * daemon's socket only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEYRACK, requireTool, run, sandbox } from '../helpers.ts';
import { killAgent, makeKey } from '../gpg-fixture.ts';
import { startKeyring } from '../keyring-session.ts';
import { VaultServer } from '../fakes/vault-server.ts';

const secret = (tag: string) => `${tag}${randomBytes(12).toString('hex')}`;
const TOOLS = ['strace', 'pass', 'gpg', 'secret-tool', 'gnome-keyring-daemon', 'dbus-run-session', 'dbus-send'];

test('keyring, pass, cmd and hashicorp: no value or token in an argv or a file write', { skip: !TOOLS.map(requireTool).every(Boolean) }, async (t) => {
  const sb = sandbox();
  const gnupg = join(sb.home, '.gnupg');
  const S = { ring: secret('RING'), pass: secret('PASS'), cmd: secret('CMD'), vault: secret('VAULT'), token: secret('hvs.') };
  const vault = await VaultServer.start({ token: S.token, mounts: { 'secret/': { type: 'kv', version: '2' } }, kv: { 'secret/app': { data: { v: S.vault } } } });
  const ring = await startKeyring(sb);
  t.after(async () => {
    await ring.close();
    await vault.close();
    await killAgent(gnupg);
    sb.cleanup();
  });
  const env = { ...ring.env, GNUPGHOME: gnupg, VAULT_ADDR: vault.addr, VAULT_TOKEN: S.token };
  const key = await makeKey(gnupg, 'hygiene <h@keyrack.invalid>');
  assert.equal((await run('pass', ['init', key.fpr], { env })).code, 0);
  assert.equal((await run('pass', ['insert', '-m', 'db'], { env, input: `${S.pass}\n` })).code, 0);
  // The test's own copies, read by redirection (no argv).
  const files = join(sb.dir, 'values');
  mkdirSync(files);
  for (const [k, v] of Object.entries(S)) writeFileSync(join(files, k), v, { mode: 0o600 });

  const script = `
set -e
k() { "${process.execPath}" "${KEYRACK}" "$@"; }
trap 'k daemon stop >/dev/null 2>&1 || :' EXIT
k set RING --vault keyring < "${files}/ring"
k set PASSK --vault pass --ref db
k set CMD --vault cmd -- cat "${files}/cmd"
k set VK --vault hashicorp --ref secret/app#v
k unlock RING PASSK CMD VK
test "$(k get RING)" = "$(cat "${files}/ring")"
test "$(k get PASSK)" = "$(cat "${files}/pass")"
test "$(k get CMD)" = "$(cat "${files}/cmd")"
test "$(k get VK)" = "$(cat "${files}/vault")"
k exec -- sh -c 'test -n "$RING" && test -n "$VK"' || true
k daemon stop
`;
  const trace = join(sb.dir, 'trace');
  const r = await run('strace', ['-f', '-y', '-s', '1000000', '-e', 'trace=execve,write,writev,pwrite64', '-o', trace, 'bash', '-c', script], { env, cwd: sb.dir });
  assert.equal(r.code, 0, r.stderr);
  const lines = readFileSync(trace, 'utf8').split('\n');
  const execs = lines.filter((l) => l.includes('execve('));
  assert.ok(execs.some((l) => l.includes('secret-tool')) && execs.some((l) => /"show", "--", "db"/.test(l)) && execs.some((l) => l.includes(`${files}/cmd`)),
    'the trace saw secret-tool, pass show and the cmd program run');
  for (const l of execs) for (const [k, s] of Object.entries(S)) assert.ok(!l.includes(s), `${k} in an argv: ${l.slice(0, 200)}`);
  const fileWrites = lines.filter((l) => /\b(write|writev|pwrite64)\(\d+<\//.test(l) && !/\(\d+<\/dev\/(null|pts)/.test(l));
  assert.ok(fileWrites.length > 3, 'the trace saw file writes');
  for (const l of fileWrites) for (const [k, s] of Object.entries(S)) assert.ok(!l.includes(s), `${k} written to a file: ${l.slice(0, 200)}`);
  // The check can see values: they did travel, on pipes and the daemon's socket.
  assert.ok(lines.some((l) => /write\(\d+<(pipe|socket):/.test(l) && l.includes(S.ring)), 'the keyring value went to secret-tool on a pipe');
});
