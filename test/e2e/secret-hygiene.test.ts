/**
 * Where secrets go, proven from the outside: a full scenario (init, set, import -, allow,
 * unlock, hook, export, exec, get, lock, stop) under strace -f, then the trace is
 * searched for the secret values: never in an execve argv, never written to a file
 * other than the os.direct vault, never in the daemon's log. And the daemon's
 * memory and environment: no caller secret inherited, /proc/<pid>/mem closed to
 * other processes of the same uid (non-dumpable).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sandbox, run, requireTool, needsRoot, KEYRACK } from '../helpers.ts';

const secret = (tag: string) => `${tag}${randomBytes(12).toString('hex')}`;

test('no secret in argv, in files other than the os.direct vault, or in the daemon log', async (t) => {
  if (!requireTool('strace')) return t.skip('strace is not installed');
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const S1 = secret('SECURE');
  const S2 = secret('DIRECT');
  const S3 = secret('PIPED');
  const proj = join(sb.dir, 'proj');
  mkdirSync(proj);
  writeFileSync(join(proj, '.keyrack'), 'S1\nS2\n');
  // The test's own copies of the values, read by redirection (no argv, no env).
  writeFileSync(join(sb.dir, 's1'), S1, { mode: 0o600 });
  writeFileSync(join(sb.dir, 's2'), S2, { mode: 0o600 });
  writeFileSync(join(sb.dir, 's3'), S3, { mode: 0o600 });
  const script = `
set -e
k() { "${process.execPath}" "${KEYRACK}" "$@"; }
# Whatever fails, stop the daemon: strace waits for every traced process.
trap 'k daemon stop >/dev/null 2>&1 || :' EXIT
echo pw | k init
k set S1 < "${sb.dir}/s1"
k set S2 --vault os.direct < "${sb.dir}/s2"
# printf is a builtin: the value is in no argv on its way into the pipe.
printf 'S3=%s\n' "$(cat "${sb.dir}/s3")" | k import -
cd "${proj}"
k allow
echo pw | k unlock S1 S2 S3
eval "$(k hook bash)"
__keyrack_hook
test "$S1" = "$(cat "${sb.dir}/s1")"
k export bash > /dev/null
k exec -- sh -c 'test -n "$S1" && test -n "$S2"'
k get S1 > /dev/null
test "$(k get S3)" = "$(cat "${sb.dir}/s3")"
k status > /dev/null
k lock
k daemon stop
`;
  const trace = join(sb.dir, 'trace');
  const r = await run('strace', ['-f', '-y', '-s', '1000000', '-e', 'trace=execve,write,writev,pwrite64,rename,renameat,renameat2', '-o', trace, 'bash', '-c', script], { env: sb.env, cwd: sb.dir });
  assert.equal(r.code, 0, r.stderr);
  const lines = readFileSync(trace, 'utf8').split('\n');
  const execs = lines.filter((l) => l.includes('execve('));
  assert.ok(execs.length > 10, 'the trace saw the commands run');
  for (const l of execs) {
    for (const s of [S1, S2, S3]) assert.ok(!l.includes(s), `a secret in argv: ${l.slice(0, 200)}`);
  }
  // Writes to regular files: strace -y shows write(3</path>, ...). Sockets, pipes,
  // terminals and /dev/null are where values are meant to travel.
  const fileWrites = lines.filter((l) => /\b(write|writev|pwrite64)\(\d+<\//.test(l) && !/\(\d+<\/dev\/(null|pts)/.test(l));
  assert.ok(fileWrites.length > 5, 'the trace saw file writes');
  const direct = join(sb.env.XDG_DATA_HOME!, 'keyrack');
  for (const l of fileWrites) {
    const path = /\(\d+<([^>]*)>/.exec(l)?.[1] ?? '';
    const vaultFile = path.startsWith(`${direct}/.direct.json.`) || path === `${direct}/direct.json`;
    if (l.includes(S2) && vaultFile) continue;
    for (const s of [S1, S2, S3]) assert.ok(!l.includes(s), `a secret written to ${path}`);
  }
  assert.ok(fileWrites.some((l) => l.includes(S2)), 'the os.direct value was written where it belongs (the check can see values)');
  const log = join(sb.env.XDG_STATE_HOME!, 'keyrack', 'daemon.log');
  assert.ok(existsSync(log), 'the daemon logged');
  const logText = readFileSync(log, 'utf8');
  assert.ok(logText.length > 0);
  for (const s of [S1, S2, S3]) assert.ok(!logText.includes(s), 'a secret in the daemon log');
  // Nothing keyrack keeps on disk holds the os.secure value in clear.
  for (const dir of [sb.env.XDG_CONFIG_HOME!, sb.env.XDG_DATA_HOME!, sb.env.XDG_STATE_HOME!, sb.env.XDG_RUNTIME_DIR!]) {
    for (const f of walk(dir)) for (const s of [S1, S3]) assert.ok(!readFileSync(f).includes(s), `${f} holds an os.secure value`);
  }
});

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...walk(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

/** Tries to read a page of /proc/<pid>/mem as uid 65534; returns what happened. */
async function readMemAs(uid: number, pid: number): Promise<string> {
  const code = `
    const fs = require('fs');
    try {
      const maps = fs.readFileSync('/proc/${pid}/maps', 'utf8').split('\\n').find((l) => / r/.test(l.slice(18, 25)) || /^\\S+ r/.test(l));
      const start = parseInt(maps.split('-')[0], 16);
      const fd = fs.openSync('/proc/${pid}/mem', 'r');
      const b = Buffer.alloc(16);
      fs.readSync(fd, b, 0, 16, start);
      console.log('read');
    } catch (e) { console.log(e.code || String(e)); }`;
  const out = await new Promise<string>((resolve, reject) => {
    const c = spawn(process.execPath, ['-e', code], { uid, gid: uid, stdio: ['ignore', 'pipe', 'inherit'] });
    let s = '';
    c.stdout.on('data', (d) => { s += d; });
    c.on('error', reject);
    c.on('close', () => resolve(s.trim()));
  });
  return out;
}

test('the daemon inherits no caller secret and its memory is closed to the same uid', { skip: needsRoot('needs root to act as two processes of uid 65534') }, async (t) => {
  const NOBODY = 65534;
  const sb = sandbox();
  t.after(() => sb.cleanup());
  for (const d of [sb.dir, sb.home, sb.env.XDG_RUNTIME_DIR!]) chownSync(d, NOBODY, NOBODY);
  const LEAK = secret('CALLER');
  const as = (args: string[], input?: string) => run(process.execPath, [KEYRACK, ...args], { uid: NOBODY, env: { ...sb.env, GITHUB_TOKEN: LEAK }, cwd: sb.dir, input });
  assert.equal((await as(['set', 'A', '--vault', 'os.direct'], 'x')).code, 0);
  const st = await as(['daemon', 'start']);
  assert.equal(st.code, 0, st.stderr);
  const status = JSON.parse((await run(process.execPath, [KEYRACK, 'status', '--json'], { uid: NOBODY, env: sb.env, cwd: sb.dir })).stdout) as { daemon: { pid: number } | null };
  const pid = status.daemon?.pid;
  assert.ok(pid, 'the daemon runs');
  const environ = readFileSync(`/proc/${pid}/environ`, 'latin1'); // root may read it
  assert.ok(environ.includes('HOME='), 'environ was readable to root');
  assert.ok(!environ.includes(LEAK), 'the daemon carries the caller\'s exported secret');
  assert.ok(!environ.includes('GITHUB_TOKEN='), 'the daemon env is a whitelist');
  assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /^Uid:\s+65534\b/m);

  // Control: a plain process of the same uid is readable, so the check can fail.
  const sleeper = spawn('sleep', ['30'], { uid: NOBODY, gid: NOBODY, stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await readMemAs(NOBODY, sleeper.pid!), 'read', 'a dumpable process of the same uid can be read');
    assert.match(await readMemAs(NOBODY, pid), /EACCES|EPERM/, 'the daemon\'s memory is closed to the same uid');
  } finally {
    sleeper.kill();
    await as(['daemon', 'stop']);
  }
});

