/**
 * A cloned repo can do nothing before `allow` (issue 10, item 3), end to end through
 * the built CLI, the no-daemon bundle and a real daemon on its socket: a `.keyrack`
 * that is a link (to /proc, to a huge file, to your credentials, to a trusted
 * manifest elsewhere) is refused without being read; a regular one is read with a
 * bound; nothing of a credential reaches the terminal; a directory's name cannot
 * drive the terminal; and an alias cannot route your key somewhere dangerous.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyrack, KEYRACK, needsRoot, requireTool, ROOT, run, sandbox, type Sandbox } from '../helpers.ts';

const FAST = join(ROOT, 'native', 'build', 'Release', 'keyrack-fast');
const SYMLINK = /\.keyrack: is a symbolic link; keyrack reads only a regular \.keyrack file/;

const inDir = (sb: Sandbox, dir: string) => ({ env: { ...sb.env, PWD: dir }, cwd: dir });

async function setDirect(sb: Sandbox, name: string, value: string): Promise<void> {
  const r = await keyrack(['set', name, '--vault', 'os.direct'], { env: sb.env, input: value });
  assert.equal(r.code, 0, r.stderr);
}

/** Every way a manifest is read: status, export (CLI and bundle), exec, allow. */
async function everyReader(sb: Sandbox, dir: string) {
  const o = inDir(sb, dir);
  return {
    status: await keyrack(['status'], o),
    export: await keyrack(['export', 'bash'], o),
    bundle: await run(process.execPath, [join(ROOT, 'dist', 'keyrack-export.cjs'), 'json'], o),
    exec: await keyrack(['exec', '--no-mask', '--', 'true'], o),
    allow: await keyrack(['allow'], o),
  };
}

test('.keyrack -> /proc/self/pagemap, or -> a 128 MB file: refused at once, nothing read, by the CLI and the daemon', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const huge = join(sb.dir, 'huge');
  writeFileSync(huge, '');
  truncateSync(huge, 128 << 20);
  for (const [name, target] of [['pagemap', '/proc/self/pagemap'], ['big', huge]] as const) {
    const dir = join(sb.dir, name);
    mkdirSync(dir);
    symlinkSync(target, join(dir, '.keyrack'));
    const r = await everyReader(sb, dir);
    assert.equal(r.status.code, 2, `${name}: status exits 2 (${r.status.stderr})`);
    assert.match(r.status.stdout, /manifest +error: .*\.keyrack: is a symbolic link/, name);
    assert.equal(r.export.code, 0, r.export.stderr);
    assert.match(r.export.stderr, SYMLINK, name);
    assert.match(r.bundle.stderr, SYMLINK, name);
    assert.deepEqual((JSON.parse(r.bundle.stdout) as { set: object }).set, {});
    assert.equal(r.exec.code, 2);
    assert.match(r.exec.stderr, SYMLINK);
    assert.equal(r.allow.code, 2);
    assert.match(r.allow.stderr, SYMLINK);
    // A link never falls through to a manifest further up.
    writeFileSync(join(sb.dir, '.keyrack'), 'OUTER\n');
    assert.match((await keyrack(['export', 'json'], inDir(sb, dir))).stderr, SYMLINK);
  }

  // The daemon answers the hook's fast path with the same refusal (/bin/false as node: no fallback).
  assert.equal((await keyrack(['daemon', 'start'], { env: sb.env })).code, 0);
  for (const name of ['pagemap', 'big']) {
    const dir = join(sb.dir, name);
    const quick = await run(FAST, ['/bin/false', KEYRACK, 'export', 'bash'], inDir(sb, dir));
    assert.equal(quick.code, 0, `the daemon answered (${quick.stderr})`);
    assert.match(quick.stderr, SYMLINK);
  }
});

test('a regular .keyrack of 128 MB is refused after reading at most 64 KiB + 1, in the CLI and in the daemon', async (t) => {
  if (!requireTool('strace')) return t.skip('strace missing');
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const dir = join(sb.dir, 'big');
  mkdirSync(dir);
  const file = join(dir, '.keyrack');
  writeFileSync(file, 'A\n'.repeat(1 << 20)); // 2 MB of real lines, then a hole to 128 MB
  truncateSync(file, 128 << 20);
  const log = join(sb.dir, 'status.strace');
  const r = spawnSync('strace', ['-f', '-qq', '-y', '-e', 'trace=read,pread64', '-e', 'signal=none', '-o', log, process.execPath, KEYRACK, 'status'], { env: { ...sb.env, PWD: dir }, cwd: dir, encoding: 'utf8' });
  const read = readFileSync(log, 'utf8').split('\n')
    .filter((l) => l.includes(`<${file}>`))
    .reduce((n, l) => n + Number(/= (\d+)$/.exec(l)?.[1] ?? 0), 0);
  assert.ok(read > 65536 && read <= 65537, `keyrack status read ${read} bytes of the manifest`);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stdout, /\.keyrack: is larger than 65536 bytes; a manifest lists key names only/);

  // The daemon, through the fast path: its own read count, from the kernel.
  const skip = needsRoot('reading a non-dumpable daemon\'s /proc/<pid>/io');
  if (skip) return t.skip(skip);
  assert.equal((await keyrack(['daemon', 'start'], { env: sb.env })).code, 0);
  const st = JSON.parse((await keyrack(['status', '--json'], { env: sb.env, cwd: sb.dir })).stdout) as { daemon: { pid: number } };
  const rchar = () => Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/${st.daemon.pid}/io`, 'utf8'))![1]);
  const before = rchar();
  const quick = await run(FAST, ['/bin/false', KEYRACK, 'export', 'bash'], inDir(sb, dir));
  const delta = rchar() - before;
  assert.ok(delta < 1 << 20, `the daemon read ${delta} bytes to answer`);
  assert.equal(quick.code, 0, quick.stderr);
  assert.match(quick.stderr, /is larger than 65536 bytes/);
});

test('.keyrack -> ../.git-credentials prints nothing of it, nor does a committed copy', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const line = 'https://alice:ghp_R4nd0mT0k3nV4lu3xyzAB12cd34EF@github.com';
  writeFileSync(join(sb.dir, '.git-credentials'), `${line}\n`);
  const linked = join(sb.dir, 'linked');
  const copied = join(sb.dir, 'copied');
  mkdirSync(linked);
  mkdirSync(copied);
  symlinkSync('../.git-credentials', join(linked, '.keyrack'));
  writeFileSync(join(copied, '.keyrack'), `# our keys\nGITHUB_TOKEN\n${line}\n`);
  for (const dir of [linked, copied]) {
    const r = await everyReader(sb, dir);
    const all = Object.values(r).map((x) => x.stdout + x.stderr).join('\n');
    for (let i = 0; i + 4 <= line.length; i++) {
      const piece = line.slice(i, i + 4);
      if (piece === 'http' || piece === 'ttps') continue; // "https" is no secret, and messages never say it
      assert.ok(!all.includes(piece), `${dir}: printed ${JSON.stringify(piece)}:\n${all}`);
    }
    assert.match(r.status.stdout, dir === linked ? /is a symbolic link/ : /\.keyrack:3: cannot read this line: it looks like a value, not a name — .*rotate it now/);
  }
});

test('a directory named with ESC and BEL reaches the terminal escaped, from export, status, allow and exec', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const evil = join(sb.dir, 'x\x1b]0;pwned\x07\x1b[31mred\x9b2J');
  mkdirSync(evil);
  writeFileSync(join(evil, '.keyrack'), 'A\nNOT VALID\n');
  assert.equal((await keyrack(['daemon', 'start'], { env: sb.env })).code, 0);
  const r = {
    ...(await everyReader(sb, evil)),
    fast: await run(FAST, ['/bin/false', KEYRACK, 'export', 'bash'], inDir(sb, evil)),
    deny: await keyrack(['deny'], inDir(sb, evil)),
    statusJson: await keyrack(['status', '--json'], inDir(sb, evil)),
  };
  for (const [what, x] of Object.entries(r)) {
    for (const [stream, text] of [['stdout', x.stdout], ['stderr', x.stderr]] as const) {
      if (what === 'export' && stream === 'stdout') continue; // code for eval, not for eyes
      assert.ok(!/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(text), `${what} ${stream} holds a raw control character: ${JSON.stringify(text)}`);
    }
  }
  for (const what of ['export', 'fast', 'allow', 'exec'] as const) {
    assert.match(r[what].stderr, /x\\e\]0;pwned\\x07\\e\[31mred\\x9b2J\/\.keyrack:2: cannot read NOT/, what);
  }
  assert.match(r.status.stdout, /x\\e\]0;pwned\\x07\\e\[31mred\\x9b2J\/\.keyrack:2/);
  assert.match(r.deny.stderr, /denied .*x\\e\]0;pwned\\x07/);
  // JSON keeps the real name, escaped as JSON: the same string once parsed.
  assert.ok((JSON.parse(r.statusJson.stdout) as { manifestError: string }).manifestError.startsWith(`${evil}/.keyrack:2: `));
});

test('~/borrow/.keyrack -> ../demo/.keyrack loads nothing in borrow, and deny there leaves demo alone', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  await setDirect(sb, 'A', 'demo value');
  const demo = join(sb.home, 'demo');
  const borrow = join(sb.home, 'borrow');
  mkdirSync(demo);
  mkdirSync(borrow);
  writeFileSync(join(demo, '.keyrack'), 'A\n');
  assert.equal((await keyrack(['allow', demo], { env: sb.env })).code, 0);
  symlinkSync('../demo/.keyrack', join(borrow, '.keyrack'));

  const there = await keyrack(['export', 'json'], inDir(sb, borrow));
  assert.deepEqual((JSON.parse(there.stdout) as { set: object }).set, {}, 'nothing loads in borrow');
  assert.match(there.stderr, SYMLINK);
  const exec = await keyrack(['exec', '--no-mask', '--', 'sh', '-c', 'printf %s "${A-unset}"'], inDir(sb, borrow));
  assert.equal(exec.code, 2);
  assert.equal(exec.stdout, '');
  const allow = await keyrack(['allow'], inDir(sb, borrow));
  assert.equal(allow.code, 2, 'allow refuses the link too');

  // deny in borrow binds borrow's path, never the file the link points at.
  assert.equal((await keyrack(['deny'], inDir(sb, borrow))).code, 0);
  const home = await keyrack(['export', 'json'], inDir(sb, demo));
  assert.deepEqual((JSON.parse(home.stdout) as { set: object }).set, { A: 'demo value' }, 'demo is still allowed');

  // A symlinked directory is the same directory: the hook's logical $PWD sees demo's manifest, trusted.
  symlinkSync(demo, join(sb.home, 'demo-link'));
  const viaLink = await keyrack(['export', 'json'], { env: { ...sb.env, PWD: join(sb.home, 'demo-link') }, cwd: demo });
  assert.deepEqual((JSON.parse(viaLink.stdout) as { set: object }).set, { A: 'demo value' });
});

test('allow refuses each of the issue\'s aliases at file:line; shows an alias as VAR ← key; a same-name HTTPS_PROXY loads', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  for (const [k, v] of [['SENTRY_DSN', 'https://k@sentry.example/1'], ['GITHUB_TOKEN', 'ghp_x'], ['NPM_TOKEN', 'npm_x'], ['HTTPS_PROXY', 'http://proxy.corp:3128'], ['npm-publish', 'npm_y']]) {
    await setDirect(sb, k!, v!);
  }
  const dir = join(sb.dir, 'p');
  mkdirSync(dir);
  const file = join(dir, '.keyrack');
  for (const line of ['PERLLIB = SENTRY_DSN', 'XDG_DATA_DIRS = SENTRY_DSN', 'GIT_HTTP_USER_AGENT = GITHUB_TOKEN', 'ARGV0 = GITHUB_TOKEN', 'GIT_SSL_NO_VERIFY = NPM_TOKEN']) {
    writeFileSync(file, `GITHUB_TOKEN\n${line}\n`);
    const r = await keyrack(['allow'], inDir(sb, dir));
    assert.equal(r.code, 2, `${line}: ${r.stderr}`);
    const env = line.split(' ')[0]!;
    assert.match(r.stderr, new RegExp(`^keyrack: ${file.replaceAll('.', '\\.')}:2: ${env} (changes how programs or shells run|= \\w+: an alias cannot fill ${env}) — it is read by `), line);
    const keyed = await keyrack(['exec', '--no-mask', '--key', line.replaceAll(' ', ''), '--', 'true'], { env: sb.env, cwd: sb.dir });
    assert.equal(keyed.code, 2, `exec --key ${line}`);
    assert.match(keyed.stderr, new RegExp(`--key: ${env} `));
  }

  writeFileSync(file, 'HTTPS_PROXY\nNPM_TOKEN = npm-publish\n');
  const ok = await keyrack(['allow'], inDir(sb, dir));
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stderr, `keyrack: alias NPM_TOKEN ← npm-publish\nkeyrack: allowed ${file} (2 keys: HTTPS_PROXY NPM_TOKEN)\n`);
  const exp = await keyrack(['export', 'json'], inDir(sb, dir));
  assert.deepEqual((JSON.parse(exp.stdout) as { set: object }).set, { HTTPS_PROXY: 'http://proxy.corp:3128', NPM_TOKEN: 'npm_y' });
});
