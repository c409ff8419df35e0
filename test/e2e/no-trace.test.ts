/**
 * Processes that hold values leave no trace (issue 10, item 4). With the user's
 * `ulimit -c unlimited` and core_pattern pointed at a temp dir, each keyrack
 * process is caught while it holds a value — exec running its command, get and
 * export writing into a pipe nobody reads, unlock waiting on a vault, import
 * reading stdin, set at its prompt — and must show a soft core limit of 0; then,
 * as another process of the user's could, its soft limit is raised again with
 * prlimit(1) and it gets SIGQUIT: non-dumpable, it still writes no core. A plain
 * shell holding the token in the same set-up does dump, with the token inside,
 * so the set-up can fail. The command `exec` runs keeps the user's own limit.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEYRACK, ROOT, keyrack, needsRoot, requireTool, run, sandbox, type Sandbox } from '../helpers.ts';
import { blockedIn, deafPipe, fedPipe, type Fifo } from '../fifo.ts';
import { Pty } from '../pty.ts';

const FAST = join(ROOT, 'native', 'build', 'Release', 'keyrack-fast');
const FAKES = join(ROOT, 'test', 'fakes');
const TOKEN = `core-canary-${randomBytes(8).toString('hex')}`;
/** Over a pipe's 64 KiB: whoever writes it blocks while nobody reads. */
const BIG = `${TOKEN}.`.repeat(Math.ceil(256 * 1024 / (TOKEN.length + 1)));
/**
 * A value under keyrack's 32 KiB limit (src/limits.ts); ten of them make an export
 * over a pipe's 64 KiB. BIG itself is planted in the os.direct file by hand (as an
 * older keyrack stored it): `get` still prints it, `set` would refuse it.
 */
const PART = `${TOKEN}.`.repeat(Math.floor(30 * 1024 / (TOKEN.length + 1)));
const PARTS = Array.from({ length: 10 }, (_, i) => i);

/** Stores BIG as the os.direct value of `name`, past set's limit. */
async function plantBig(env: NodeJS.ProcessEnv, name: string, as?: { uid: number; cwd: string }): Promise<void> {
  const set = await run(process.execPath, [KEYRACK, 'set', name, '--vault', 'os.direct'], { env, input: 'placeholder', ...(as ?? {}) });
  assert.equal(set.code, 0, set.stderr);
  const file = join(env.XDG_DATA_HOME!, 'keyrack', 'direct.json');
  const f = JSON.parse(readFileSync(file, 'utf8')) as { values: Record<string, string> };
  f.values[name] = BIG;
  writeFileSync(file, JSON.stringify(f));
}
const NOBODY = 65534;
const skip = needsRoot('sets core_pattern, raises other processes\' limits, runs as uid 65534') || !requireTool('prlimit') && 'prlimit';

let sb: Sandbox;
let cores: string;
let proj: string;
let sealed: string;
let argvLog: string;
const saved = new Map<string, string>();

/** Sets a sysctl under /proc/sys for the duration of this file (restored in after()). */
function sysctl(name: string, value: string): void {
  const path = `/proc/sys/${name}`;
  if (!saved.has(path)) saved.set(path, readFileSync(path, 'utf8').trim());
  writeFileSync(path, value);
  assert.equal(readFileSync(path, 'utf8').trim(), value, `${path} is writable`);
}

async function ok(args: string[], input = '', cwd?: string): Promise<void> {
  const r = await keyrack(args, { env: sb.env, input, cwd });
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
}

before(async () => {
  if (skip) return;
  sb = sandbox();
  cores = join(sb.dir, 'cores');
  mkdirSync(cores);
  // A file in our temp dir, whatever the machine's own setting (e.g. a systemd-coredump pipe).
  sysctl('kernel/core_pattern', `${cores}/core.%p`);
  // 0: a non-dumpable process dumps nothing at all (2 would still write a root-only core).
  sysctl('fs/suid_dumpable', '0');
  argvLog = join(sb.dir, 'argv.log');
  const fixture = join(sb.dir, 'op.json');
  writeFileSync(fixture, JSON.stringify({ secrets: {}, hang: true }));
  Object.assign(sb.env, { PATH: `${FAKES}:${process.env.PATH}`, FAKE_OP_FIXTURE: fixture, FAKE_ARGV_LOG: argvLog });
  proj = join(sb.dir, 'proj');
  sealed = join(sb.dir, 'sealed');
  mkdirSync(proj);
  mkdirSync(sealed);
  await ok(['init'], 'pw\n');
  await ok(['set', 'SMALL', '--vault', 'os.direct'], TOKEN);
  await plantBig(sb.env, 'BIG');
  await ok(['import', '-', '--vault', 'os.direct'], PARTS.map((i) => `BIG_${i}=${PART}\n`).join(''));
  await ok(['set', 'SEALED'], TOKEN);
  await ok(['import', '-'], PARTS.map((i) => `SEALED_BIG_${i}=${PART}\n`).join(''));
  await ok(['set', 'REMOTE', '--vault', '1password', '--ref', 'op://v/item/field']);
  writeFileSync(join(proj, '.keyrack'), PARTS.map((i) => `BIG_${i}\n`).join(''));
  writeFileSync(join(sealed, '.keyrack'), PARTS.map((i) => `SEALED_BIG_${i}\n`).join(''));
  await ok(['allow', proj]);
  await ok(['allow', sealed]);
});

after(() => {
  for (const [path, value] of saved) writeFileSync(path, value);
  sb?.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `cond` holds; the limit only bounds a hang on a loaded machine. */
async function waitFor(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1500; i++) {
    if (cond()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting until ${what}`);
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The soft RLIMIT_CORE of a process, as the kernel shows it (Infinity: unlimited). */
function coreLimit(pid: number): number {
  const m = /^Max core file size\s+(\S+)/m.exec(read(`/proc/${pid}/limits`));
  assert.ok(m, `/proc/${pid}/limits`);
  return m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

const childrenOf = (pid: number) => read(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/).filter(Boolean).map(Number);

interface Started { child?: ChildProcess; pid: number; exited: Promise<NodeJS.Signals | number | null> }

/** Starts argv as the user would with `ulimit -c unlimited` (exec keeps the pid). */
function start(argv: string[], opts: { stdin?: 'pipe' | 'ignore' | number; stdout?: number | 'ignore'; cwd?: string; env?: NodeJS.ProcessEnv; uid?: number } = {}): Started {
  const as = opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.uid };
  const child = spawn('sh', ['-c', 'ulimit -c unlimited && exec "$@"', 'sh', ...argv], {
    env: opts.env ?? sb.env, cwd: opts.cwd ?? sb.dir, stdio: [opts.stdin ?? 'ignore', opts.stdout ?? 'ignore', 'ignore'], ...as,
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  return { child, pid: child.pid!, exited };
}

/** Node writes a full pipe asynchronously (it waits in epoll, not in write): the first bytes say it is writing. */
async function waitWriting(pipe: Fifo, what: string): Promise<void> {
  await waitFor(what, () => pipe.drain().length > 0);
}

const coreOf = (pid: number) => join(cores, `core.${pid}`);

/**
 * The process holds a value now: its soft core limit must be 0; raised again from
 * outside (as any process of the user's may), SIGQUIT must still leave no core
 * (non-dumpable). `dumpable`: a process that is only core-less is not raised.
 */
async function assertLeavesNoCore(p: Started, what: string, opts: { dumpable?: boolean } = {}): Promise<void> {
  assert.equal(coreLimit(p.pid), 0, `${what}: the soft core limit is 0 while it holds a value`);
  if (!opts.dumpable) {
    const r = spawnSync('prlimit', ['--pid', String(p.pid), '--core=unlimited:'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(coreLimit(p.pid), Infinity);
  }
  process.kill(p.pid, 'SIGQUIT');
  assert.equal(await p.exited, 'SIGQUIT', `${what}: died of the SIGQUIT`);
  assert.ok(!existsSync(coreOf(p.pid)), `${what}: no core file: ${readdirSync(cores).join(' ')}`);
}

test('the set-up can fail: a shell holding the token dumps a core that contains it', { skip }, async () => {
  const p = start(['sh', '-c', 'read -r v; while :; do sleep 1; done'], { stdin: 'pipe' });
  p.child!.stdin!.write(`${TOKEN}\n`);
  await waitFor('the shell is past its read', () => childrenOf(p.pid).length > 0);
  process.kill(p.pid, 'SIGQUIT');
  assert.equal(await p.exited, 'SIGQUIT');
  assert.ok(existsSync(coreOf(p.pid)), `a core was written: ${readdirSync(cores).join(' ')}`);
  assert.ok(readFileSync(coreOf(p.pid)).includes(TOKEN), 'the core holds the token');
  rmSync(coreOf(p.pid));
});

test('keyrack exec (Node): no core while its command runs; the command keeps the user\'s limit', { skip }, async () => {
  const p = start([process.execPath, KEYRACK, 'exec', '--no-mask', '--key', 'SMALL', '--', 'sleep', '600']);
  let cmd = 0;
  await waitFor('exec runs its command', () => {
    cmd = childrenOf(p.pid).find((c) => read(`/proc/${c}/comm`).trim() === 'sleep') ?? 0;
    return cmd !== 0;
  });
  try {
    // It gives the user's limit back for the spawn only: wait until it has dropped it again.
    await waitFor('exec is core-less again after starting its command', () => coreLimit(p.pid) === 0);
    assert.ok(read(`/proc/${cmd}/environ`).includes(`SMALL=${TOKEN}`), 'the command got the key');
    assert.equal(coreLimit(cmd), Infinity, 'the user\'s ulimit -c reaches the command');
    await assertLeavesNoCore(p, 'exec');
  } finally {
    process.kill(cmd, 'SIGKILL');
  }
});

test('keyrack get: no core while it writes a value into a pipe nobody reads', { skip }, async () => {
  const pipe = deafPipe(sb.dir);
  try {
    const p = start([process.execPath, KEYRACK, 'get', 'BIG'], { stdout: pipe.childFd });
    await waitWriting(pipe, 'get writes the value');
    await assertLeavesNoCore(p, 'get');
  } finally {
    pipe.close();
  }
});

test('keyrack unlock: no core while it holds an os.secure value and waits on another vault', { skip }, async () => {
  const p = start([process.execPath, KEYRACK, 'unlock', 'SEALED', 'REMOTE'], { stdin: 'pipe' });
  p.child!.stdin!.end('pw\n');
  let op = 0;
  // os.secure is fetched first; then `op read` (the stand-in hangs) is started.
  await waitFor('unlock waits on op', () => {
    const line = read(argvLog).split('\n').find((l) => l.includes('"tool":"op"'));
    if (line) op = (JSON.parse(line) as { pid: number }).pid;
    return op !== 0;
  });
  try {
    await assertLeavesNoCore(p, 'unlock');
  } finally {
    try { process.kill(op, 'SIGKILL'); } catch { /* gone with its parent */ }
  }
});

test('keyrack import -: no core while it reads values from stdin', { skip }, async () => {
  const pipe = fedPipe(sb.dir);
  try {
    pipe.write(`IMPORTED=${TOKEN}\n`); // and no EOF: it reads on
    const p = start([process.execPath, KEYRACK, 'import', '-'], { stdin: pipe.childFd });
    await waitFor('import has read the line and waits for more', () => blockedIn(p.pid, 'read'));
    await assertLeavesNoCore(p, 'import');
  } finally {
    pipe.close();
  }
});

test('keyrack set: no core at its hidden prompt', { skip }, async () => {
  const pidFile = join(sb.dir, 'set.pid');
  const pty = new Pty(['sh', '-c', 'ulimit -c unlimited && echo $$ > "$0" && exec "$@"', pidFile, process.execPath, KEYRACK, 'set', 'TYPED'], { env: sb.env, cwd: sb.dir });
  try {
    await pty.expect('Value for TYPED (hidden): ');
    pty.write(TOKEN); // typed, no Enter yet
    const pid = Number(read(pidFile));
    const exited = pty.exited.then((code) => (code === 128 + 3 ? 'SIGQUIT' as const : code));
    await assertLeavesNoCore({ pid, exited }, 'set');
  } finally {
    pty.kill();
  }
});

test('keyrack-fast export: no core while it writes the daemon\'s answer', { skip }, async () => {
  await ok(['unlock', ...PARTS.map((i) => `SEALED_BIG_${i}`)], 'pw\n');
  const pipe = deafPipe(sb.dir);
  try {
    const p = start([FAST, process.execPath, KEYRACK, 'export', 'bash'], { stdout: pipe.childFd, cwd: sealed, env: { ...sb.env, PWD: sealed } });
    await waitFor('keyrack-fast blocks writing the export', () => blockedIn(p.pid, 'write'));
    assert.equal(read(`/proc/${p.pid}/comm`).trim(), 'keyrack-fast', 'the daemon answered (no fallback to Node)');
    await assertLeavesNoCore(p, 'keyrack-fast export');
  } finally {
    pipe.close();
  }
});

// The export-only bundle does not load the addon (1.5 ms on the prompt's path): it
// keeps the core limit 0 that keyrack-fast hands it, and stays dumpable.
test('export without a daemon (keyrack-fast hands it to Node\'s export bundle): no core while it writes', { skip }, async () => {
  await ok(['daemon', 'stop']);
  const pipe = deafPipe(sb.dir);
  try {
    const p = start([FAST, process.execPath, KEYRACK, 'export', 'bash'], { stdout: pipe.childFd, cwd: proj, env: { ...sb.env, PWD: proj } });
    await waitWriting(pipe, 'the Node export writes');
    assert.match(read(`/proc/${p.pid}/cmdline`), /keyrack-export\.cjs\0bash\0$/, 'keyrack-fast handed over to the export bundle');
    await assertLeavesNoCore(p, 'Node export', { dumpable: true });
  } finally {
    pipe.close();
  }
});

test('the command exec runs gets the user\'s own core limit, from keyrack-fast and from Node', { skip }, async () => {
  const show = ['sh', '-c', 'grep "^Max core file size" /proc/self/limits'];
  const asUser = (argv: string[]) => run('sh', ['-c', 'ulimit -c 4096 && exec "$@"', 'sh', ...argv], { env: sb.env, cwd: sb.dir });
  const mine = await asUser(show);
  assert.match(mine.stdout, /^Max core file size\s+\d+\s/);
  // Without a daemon keyrack-fast hands exec to Node; with one it execs the command itself.
  for (const daemon of [false, true]) {
    if (daemon) await ok(['daemon', 'start']);
    for (const argv of [[FAST, process.execPath, KEYRACK], [process.execPath, KEYRACK]]) {
      const r = await asUser([...argv, 'exec', '--no-mask', '--key', 'SMALL', '--', ...show]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, mine.stdout, `${argv.length === 3 ? 'keyrack-fast' : 'node'} exec, daemon ${daemon}`);
    }
  }
});

test('without the native module the core limit still drops (prlimit(1)); only non-dumpable is lost', { skip }, async () => {
  await ok(['daemon', 'stop']);
  const copy = join(sb.dir, 'nonative');
  cpSync(join(ROOT, 'dist'), join(copy, 'dist'), { recursive: true });
  const p = start([process.execPath, join(copy, 'dist', 'keyrack.mjs'), 'exec', '--no-mask', '--key', 'SMALL', '--', 'sleep', '600']);
  let cmd = 0;
  await waitFor('exec runs its command', () => {
    cmd = childrenOf(p.pid).find((c) => read(`/proc/${c}/comm`).trim() === 'sleep') ?? 0;
    return cmd !== 0;
  });
  try {
    assert.ok(!read(`/proc/${p.pid}/maps`).includes('keyrack_native.node'), 'the copy runs without the addon');
    await waitFor('keyrack lowers its own soft limit from outside, after the spawn', () => coreLimit(p.pid) === 0);
    assert.equal(coreLimit(cmd), Infinity, 'and gave the user\'s limit to the command');
    process.kill(p.pid, 'SIGQUIT');
    assert.equal(await p.exited, 'SIGQUIT');
    assert.ok(!existsSync(coreOf(p.pid)), 'no core file');
  } finally {
    process.kill(cmd, 'SIGKILL');
  }
});

test('as an ordinary user (uid 65534), get is non-dumpable (its /proc files are root\'s), still works, and the audit log names it', { skip }, async () => {
  const other = sandbox();
  const pipe = deafPipe(sb.dir);
  try {
    spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, other.dir]);
    await plantBig(other.env, 'BIG', { uid: NOBODY, cwd: other.home });
    const p = start([process.execPath, KEYRACK, 'get', 'BIG'], { stdout: pipe.childFd, env: other.env, cwd: other.home, uid: NOBODY });
    const chunks: Buffer[] = [];
    await waitFor('get writes the value', () => chunks.push(pipe.drain()) > 0 && chunks.some((c) => c.length > 0));
    assert.match(read(`/proc/${p.pid}/status`), new RegExp(`^Uid:\\s+${NOBODY}\\s`, 'm'));
    assert.equal(statSync(`/proc/${p.pid}/environ`).uid, 0, 'non-dumpable: the kernel gives its /proc files to root');
    assert.equal(coreLimit(p.pid), 0);
    let done = false;
    void p.exited.then(() => { done = true; });
    while (!done) {
      chunks.push(pipe.drain());
      await sleep(5);
    }
    for (let c = pipe.drain(); c.length > 0; c = pipe.drain()) chunks.push(c);
    assert.equal(await p.exited, 0);
    assert.equal(Buffer.concat(chunks).toString(), `${BIG}\n`, 'get wrote the whole value');

    // Its exe and cwd are hidden from the daemon too (it is not root): the audit log keeps its name.
    const as = (args: string[], input = '') => run(process.execPath, [KEYRACK, ...args], { env: other.env, input, uid: NOBODY, cwd: other.home });
    for (const [args, input] of [[['init'], 'pw\n'], [['set', 'SEALED'], TOKEN], [['unlock', 'SEALED'], 'pw\n']] as const) {
      const r = await as([...args], input);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    assert.equal((await as(['get', 'SEALED'])).stdout, `${TOKEN}\n`);
    const log = await as(['log', '--json', '--key', 'SEALED']);
    const rec = JSON.parse(log.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    assert.deepEqual([rec.op, rec.keys, rec.uid, rec.exe, rec.cwd, rec.comm], ['get', ['SEALED'], NOBODY, null, null, 'node']);
    assert.match((await as(['log', '--key', 'SEALED'])).stdout, /\bget\s+SEALED\s+pid \d+\s+session -\s+\[node\]\s+\?$/m);
  } finally {
    pipe.close();
    // cleanup() stops the daemon as root, whom this uid-65534 daemon would refuse.
    await run(process.execPath, [KEYRACK, 'daemon', 'stop'], { env: other.env, uid: NOBODY, cwd: '/' });
    other.cleanup();
  }
});
