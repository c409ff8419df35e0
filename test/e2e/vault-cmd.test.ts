/**
 * The cmd vault with real programs: `keyrack set K --vault cmd -- PROG ARG…`
 * stores an argv in the user's registry (a manifest can never supply one), unlock
 * runs it without a shell under KEYRACK_CMD_TIMEOUT, the value is its stdout
 * minus one trailing newline, and every failure names the key, shows the
 * program's stderr (never its stdout) and exits 2.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { keyrack, sandbox, type Sandbox } from '../helpers.ts';
import { roundTrip } from '../vault-roundtrip.ts';

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

describe('cmd vault', () => {
  let sb: Sandbox;
  let bin: string;
  const kr = (args: string[], o: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}) =>
    keyrack(args, { env: o.env ?? sb.env, input: o.input, cwd: o.cwd });
  const registry = () => JSON.parse(readFileSync(join(sb.env.XDG_CONFIG_HOME!, 'keyrack', 'registry.json'), 'utf8')) as { keys: Record<string, unknown> };
  /** A script in the sandbox's bin (on PATH), run without a shell by keyrack. */
  const script = (name: string, body: string) => {
    const p = join(bin, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  };

  before(() => {
    sb = sandbox();
    bin = join(sb.dir, 'bin');
    mkdirSync(bin);
    sb.env.PATH = `${bin}:${sb.env.PATH}`;
  });
  after(() => sb.cleanup());

  test('set stores the argv only; unlock runs it; the hook and exec get stdout minus one newline', async () => {
    const value = 'tok\'en "$HOME" `x` ✓\nline2\n';
    // printf gets the value as its argument here only because this is a test's fake secret.
    let r = await kr(['set', 'TOKEN', '--vault', 'cmd', '--', 'printf', '%s\n', value]);
    assert.equal(r.code, 0, r.stderr);
    script('say-db', 'printf "db-pass-%s\\n" "$1"');
    r = await kr(['set', 'DB', '--vault', 'cmd', '--', 'say-db', '--raw']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(registry().keys.DB, { vault: 'cmd', argv: ['say-db', '--raw'] });
    await roundTrip(sb, { TOKEN: value, DB: 'db-pass---raw' });
  });

  test('a relative program path is stored absolute; a missing program is refused at set, nothing stored', async () => {
    script('rel-prog', 'echo rel');
    let r = await kr(['set', 'REL', '--vault', 'cmd', '--', './bin/rel-prog'], { cwd: sb.dir });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(registry().keys.REL, { vault: 'cmd', argv: [join(bin, 'rel-prog')] });
    r = await kr(['set', 'NOPE', '--vault', 'cmd', '--', 'no-such-program-here', 'x']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no-such-program-here is not found on PATH; install it first \(nothing stored\)/);
    assert.equal(registry().keys.NOPE, undefined);
    r = await kr(['set', 'NOPE', '--vault', 'cmd']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--vault cmd needs the command after --/);
    r = await kr(['set', 'NOPE', '--vault', 'os.direct', '--', 'echo', 'x'], { input: 'v' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /a command after -- is only for --vault cmd/);
  });

  test('failure: exit 2, the key named, the program\'s stderr shown and never its stdout', async () => {
    script('fails', 'echo "STDOUT-SECRET-1"; echo "bw: You are not logged in." >&2; exit 3');
    assert.equal((await kr(['set', 'FAILS', '--vault', 'cmd', '--', 'fails', 'get'])).code, 0);
    const r = await kr(['unlock', 'FAILS']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^keyrack: FAILS: cmd \(fails get\): exited with status 3; its stderr: bw: You are not logged in\.$/m);
    assert.doesNotMatch(r.stderr + r.stdout, /STDOUT-SECRET-1/);
    assert.equal((await kr(['get', 'FAILS'])).code, 2);
  });

  test('timeout: KEYRACK_CMD_TIMEOUT kills the program; exit 2 with its stderr', async () => {
    const pidFile = join(sb.dir, 'hang.pid');
    script('hangs', `echo $$ > '${pidFile}'; echo "waiting for approval" >&2; exec sleep 100`);
    assert.equal((await kr(['set', 'HANG', '--vault', 'cmd', '--', 'hangs'])).code, 0);
    const r = await kr(['unlock', 'HANG'], { env: { ...sb.env, KEYRACK_CMD_TIMEOUT: '1' } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /HANG: cmd \(hangs\): timed out after 1s \(killed\); its stderr: waiting for approval; a slower program needs KEYRACK_CMD_TIMEOUT=SECONDS/);
    assert.equal(alive(Number(readFileSync(pidFile, 'utf8'))), false, 'the hung program is still running');
  });

  test('values that are not UTF-8, hold NUL or are empty are refused; a program gone since set is named', async () => {
    script('bad-utf8', "printf 'a\\377b'");
    script('nul', "printf 'a\\000b'");
    script('silent', 'exit 0');
    const gone = script('gone', 'echo x');
    for (const [k, p] of [['BADU', 'bad-utf8'], ['NUL', 'nul'], ['SILENT', 'silent'], ['GONE', 'gone']]) {
      assert.equal((await kr(['set', k!, '--vault', 'cmd', '--', p!])).code, 0);
    }
    rmSync(gone);
    const r = await kr(['unlock', 'BADU', 'NUL', 'SILENT', 'GONE']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /BADU: cmd \(bad-utf8\): the value is not valid UTF-8; keyrack keys must be text/);
    assert.match(r.stderr, /NUL: cmd \(nul\): the value contains a NUL byte/);
    assert.match(r.stderr, /SILENT: cmd \(silent\): printed nothing on stdout/);
    assert.match(r.stderr, /GONE: cmd \(gone\): gone is not installed \(not found on PATH\); install it, or fix it with keyrack set GONE --vault cmd -- PROG \[ARG…\]/);
    const d = await kr(['doctor']);
    assert.match(d.stdout, /FAIL {2}cmd key GONE: gone not found \(gone\)/);
    assert.match(d.stdout, /ok {4}cmd key DB: .*\/say-db/);
  });

  test('a manifest can never supply a command: only names, and only the registry maps them', async () => {
    const canary = join(sb.dir, 'CANARY');
    const proj = join(sb.dir, 'hostile');
    mkdirSync(proj);
    for (const line of [`X = cmd -- touch ${canary}`, `$(touch ${canary})`, `X = \`touch ${canary}\``]) {
      writeFileSync(join(proj, '.keyrack'), `${line}\n`);
      const a = await kr(['allow', proj]);
      const u = await kr(['unlock'], { cwd: proj, env: { ...sb.env, PWD: proj } });
      assert.notEqual(u.code, 0, `${line}: ${u.stderr}`);
      assert.ok(a.code !== 0 || u.code !== 0);
    }
    // A well-formed manifest naming an unregistered key runs nothing either.
    writeFileSync(join(proj, '.keyrack'), 'NOT_REGISTERED\n');
    assert.equal((await kr(['allow', proj])).code, 0);
    const u = await kr(['unlock'], { cwd: proj, env: { ...sb.env, PWD: proj } });
    assert.equal(u.code, 2);
    assert.match(u.stderr, /NOT_REGISTERED is absent/);
    assert.equal(existsSync(canary), false, 'a command from a manifest ran');
  });

  test('a registry others can write is not trusted to name programs', async () => {
    const ran = join(sb.dir, 'RAN');
    script('marks', `touch '${ran}'; echo v`);
    assert.equal((await kr(['set', 'MARK', '--vault', 'cmd', '--', 'marks'])).code, 0);
    const path = join(sb.env.XDG_CONFIG_HOME!, 'keyrack', 'registry.json');
    chmodSync(path, 0o666);
    try {
      const r = await kr(['unlock', 'MARK']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /MARK: cmd: refusing to run commands from the registry: .*registry\.json is writable by others \(mode 666\): chmod go-w /);
      assert.equal(existsSync(ran), false, 'the program ran from a registry others can write');
    } finally {
      chmodSync(path, 0o600);
    }
    const ok = await kr(['unlock', 'MARK']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(existsSync(ran), true);
  });
});
