/**
 * The clients check the daemon's session, not only its uid (issue 10, item 1). All
 * login sessions of a uid share the runtime directory, so a process of ours in
 * ANOTHER audit session can move this session's socket aside and serve its own
 * "daemon" at keyrack.<session>.sock. Every client must send it nothing, set and
 * run nothing it answers, and tell the user which socket and which session.
 * Root makes the sessions (writing /proc/self/loginuid starts a fresh one) and hands
 * a freed pid to a chosen process (/proc/sys/kernel/ns_last_pid).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { KEYRACK, ROOT, keyrack, needsRoot, requireTool, sandbox, type Result, type Sandbox } from '../helpers.ts';
import { ShellSession } from '../shell-session.ts';

const FAST = join(ROOT, 'native', 'build', 'Release', 'keyrack-fast');
const FAKE = join(ROOT, 'test', 'sockets', 'fake-daemon.mjs');
const RECYCLER = join(ROOT, 'test', 'sockets', 'recycler.py');
const IN_SESSION = join(ROOT, 'test', 'sockets', 'in-session.mjs');
const NEW_SESSION = 'echo 1000 > /proc/self/loginuid || exit 99; exec "$@"';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Undo steps, run last-in first-out after the test (processes before their sandbox). */
function undoer(t: { after(fn: () => Promise<void>): void }): (fn: () => unknown) => void {
  const steps: Array<() => unknown> = [];
  t.after(async () => {
    for (const f of steps.reverse()) await f();
  });
  return (fn) => steps.push(fn);
}

/** A long-lived process started in a fresh audit session; its stdout lines are events. */
class Foreign {
  lines: string[] = [];
  private constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (l) => this.lines.push(l));
  }

  static async start(argv: string[], ready: RegExp): Promise<Foreign> {
    const f = new Foreign(spawn('sh', ['-c', NEW_SESSION, 'sh', ...argv], { stdio: ['ignore', 'pipe', 'inherit'] }));
    for (let i = 0; i < 500 && !f.lines.some((l) => ready.test(l)); i++) await sleep(20);
    assert.ok(f.lines.some((l) => ready.test(l)), `${argv.join(' ')} is up`);
    return f;
  }

  first(re: RegExp): RegExpExecArray {
    for (const l of this.lines) {
      const m = re.exec(l);
      if (m) return m;
    }
    throw new Error(`no ${re} in ${this.lines.join(' | ')}`);
  }

  count(re: RegExp): number {
    return this.lines.filter((l) => re.test(l)).length;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    await new Promise((r) => this.child.once('close', r));
  }
}

/** The victim's side: a process in its own audit session that runs commands for the test. */
class Victim {
  private pending: Array<(v: Record<string, unknown>) => void> = [];
  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (l) => this.pending.shift()?.(JSON.parse(l) as Record<string, unknown>));
  }

  private next(): Promise<Record<string, unknown>> {
    return new Promise((resolve) => this.pending.push(resolve));
  }

  static async start(): Promise<{ victim: Victim; session: number }> {
    const v = new Victim(spawn('sh', ['-c', NEW_SESSION, 'sh', process.execPath, IN_SESSION], { stdio: ['pipe', 'pipe', 'inherit'] }));
    const hello = await v.next();
    return { victim: v, session: hello.session as number };
  }

  async run(cmd: string, args: string[], o: { env: NodeJS.ProcessEnv; cwd?: string; input?: string }): Promise<Result> {
    const answer = this.next();
    this.child.stdin!.write(JSON.stringify({ op: 'run', cmd, args, ...o }) + '\n');
    return (await answer) as unknown as Result;
  }

  /** Starts a process of this session that gets exactly `pid`; -1 when another took it. */
  async hold(pid: number): Promise<number> {
    const answer = this.next();
    this.child.stdin!.write(JSON.stringify({ op: 'hold', pid }) + '\n');
    return (await answer).pid as number;
  }

  close(): void {
    this.child.stdin!.end();
  }
}

/** A registry with an os.secure key A and a trusted project that lists it. */
async function project(sb: Sandbox): Promise<string> {
  assert.equal((await keyrack(['init'], { env: sb.env, input: 'pw\n' })).code, 0);
  assert.equal((await keyrack(['set', 'A'], { env: sb.env, input: 'real-secret' })).code, 0);
  const proj = join(sb.dir, 'proj');
  mkdirSync(proj);
  writeFileSync(join(proj, '.keyrack'), 'A\n');
  assert.equal((await keyrack(['allow', proj], { env: sb.env })).code, 0);
  return proj;
}

test('a fake daemon of another login session at this session\'s socket gets zero bytes; nothing it answers runs or is set', { skip: needsRoot('needs root to create audit sessions') }, async (t) => {
  const undo = undoer(t);
  requireTool('bash');
  const sb = sandbox();
  undo(() => sb.cleanup());
  const proj = await project(sb);
  const pwned = join(sb.dir, 'PWNED');
  const evil = join(sb.dir, 'evil.sh');
  writeFileSync(evil, `touch ${pwned}\n`);
  const out = join(sb.dir, 'out');

  // The victim: a real interactive bash with the hook, in a login session of its own,
  // whose session daemon is running.
  const sh = await ShellSession.start('bash', sb, { cwd: sb.dir, newSession: true });
  undo(() => sh.close());
  const sidFile = join(sb.dir, 'sid');
  await sh.run(`cat /proc/self/sessionid > ${sidFile}`);
  const session = Number(readFileSync(sidFile, 'utf8'));
  const sock = join(sb.env.XDG_RUNTIME_DIR!, `keyrack.${session}.sock`);
  const started = join(sb.dir, 'started');
  assert.equal(await sh.statusAfter(`${process.execPath} ${KEYRACK} daemon start 2>${started}`), 0);
  const daemonPid = Number(/pid (\d+)/.exec(readFileSync(started, 'utf8'))![1]);
  undo(() => process.kill(daemonPid, 'SIGTERM'));
  assert.ok(existsSync(sock));

  // The attacker, a process of the same uid in another session: moves the socket aside,
  // serves its own at its path, answering with code to run and BASH_ENV to set.
  renameSync(sock, `${sock}.moved`);
  const answers = join(sb.dir, 'answers.json');
  writeFileSync(answers, JSON.stringify({
    export: { stdout: `export A='fake'\ntouch ${pwned}\n`, stderr: '' },
    'exec-env': { vars: { A: 'fake', BASH_ENV: evil } },
    get: { keys: { A: { value: 'fake', expiresAt: Date.now() + 60_000 } } },
    put: {}, lock: { removed: [] }, backoff: { delayMs: 0 },
    status: { status: { pid: 1, session, mode: 'session', check: 'fake', startedAt: 0, dumpable: false, refreshWindowMs: 0, keys: [] } },
  }));
  const fake = await Foreign.start([process.execPath, FAKE, sock, answers], /^listening /);
  undo(() => fake.stop());
  const [, , theirs] = fake.first(/^listening (\d+) (\d+)$/);
  assert.notEqual(Number(theirs), session, 'the fake runs in another session');
  const refusal = new RegExp(`refusing the daemon socket ${reEscape(sock)}: it is served by pid \\d+ in audit session ${theirs}, not by this login session \\(${session}\\)`);

  // The hook, as the attacker would make it run: the prompt after cd runs keyrack-fast.
  const shown = await sh.run(`cd ${proj}`);
  assert.match(shown, refusal, 'the hook says which socket and which session');
  const env = await sh.env();
  assert.equal(env.get('A'), undefined, 'the hook set nothing');
  assert.equal(env.get('BASH_ENV'), undefined);

  // Every client, from that shell: exit 2, the same clear error, nothing run.
  const K = `${process.execPath} ${KEYRACK}`;
  const probe = `bash -c 'echo "A=\${A-unset} BASH_ENV=\${BASH_ENV-unset}" > ${out}'`;
  const commands: Array<[string, string]> = [
    ['unlock', `printf 'pw\\n' | ${K} unlock A`],
    ['exec through the launcher (keyrack-fast)', `${FAST} ${process.execPath} ${KEYRACK} exec -- ${probe}`],
    ['exec in node', `${K} exec -- ${probe}`],
    ['status', `${K} status`],
    ['lock', `${K} lock`],
    ['get', `${K} get A`],
    ['export (keyrack-fast, its node fallback)', `eval "$(${FAST} ${process.execPath} ${KEYRACK} export bash)"`],
  ];
  for (const [label, line] of commands) {
    const err = join(sb.dir, 'err');
    const code = await sh.statusAfter(`{ ${line}; } 2>${err}`);
    const stderr = readFileSync(err, 'utf8');
    assert.match(stderr, refusal, `${label}: the clear error (${stderr})`);
    if (!label.startsWith('export')) assert.equal(code, 2, `${label}: exit 2`);
    assert.ok(!existsSync(out), `${label}: the command did not run`);
  }
  assert.equal((await sh.env()).get('A'), undefined, 'eval of the export set nothing');
  assert.ok(!existsSync(pwned), 'nothing the fake daemon answered ran');
  assert.ok(fake.count(/^connection$/) >= commands.length + 1, `every client connected (${fake.lines.join(' | ')})`);
  assert.equal(fake.count(/^bytes /), 0, `the fake daemon received zero bytes (${fake.lines.join(' | ')})`);
});

/** Compiles the LD_PRELOAD shim that makes this kernel answer as one without SO_PEERPIDFD does. */
function oldKernelShim(sb: Sandbox): string {
  const cc = requireTool('cc');
  assert.ok(cc, 'a C compiler');
  const so = join(sb.dir, 'no-peerpidfd.so');
  const r = spawnSync(cc, ['-shared', '-fPIC', '-O2', '-o', so, join(ROOT, 'test', 'fakes', 'no-peerpidfd.c')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return so;
}

for (const kernel of ['SO_PEERPIDFD', 'pidfd_open (no SO_PEERPIDFD: an older kernel)'] as const) {
  test(`a recycled pid cannot vouch for a planted socket, pinned by ${kernel}`, { skip: needsRoot('needs root for audit sessions and ns_last_pid') }, async (t) => {
  const undo = undoer(t);
    requireTool('python3');
    const sb = sandbox();
    undo(() => sb.cleanup());
    const env: NodeJS.ProcessEnv = { ...sb.env };
    if (kernel !== 'SO_PEERPIDFD') env.LD_PRELOAD = oldKernelShim(sb);
    const { victim, session } = await Victim.start();
    undo(() => victim.close());
    const sock = join(sb.env.XDG_RUNTIME_DIR!, `keyrack.${session}.sock`);

    // The attacker's listener exits; its pid goes to a process of the victim's session,
    // while the attacker keeps serving the socket from another process.
    let attacker: Foreign | undefined;
    let pid = -1;
    for (let attempt = 0; attempt < 5 && pid < 0; attempt++) {
      await attacker?.stop();
      spawnSync('rm', ['-f', sock]);
      attacker = await Foreign.start(['python3', RECYCLER, sock], /^listener \d+$/);
      const listener = Number(attacker.first(/^listener (\d+)$/)[1]);
      pid = await victim.hold(listener);
    }
    undo(() => attacker?.stop());
    assert.ok(pid > 0, 'a process of this session holds the dead listener\'s pid');
    assert.match(readFileSync(`/proc/${pid}/sessionid`, 'utf8'), new RegExp(`^${session}$`));

    const fast = await victim.run(FAST, ['/bin/false', KEYRACK, 'export', 'bash'], { env });
    assert.deepEqual([fast.code, fast.stdout], [1, ''], 'keyrack-fast handed over to node (/bin/false) instead');
    const status = await victim.run(process.execPath, [KEYRACK, 'status'], { env });
    assert.equal(status.code, 2, status.stderr);
    assert.match(status.stderr, new RegExp(`refusing the daemon socket ${reEscape(sock)}: `));
    if (kernel === 'SO_PEERPIDFD') {
      assert.match(status.stderr, new RegExp(`the process that listens on it \\(pid ${pid}\\) has exited`));
    } else {
      assert.match(status.stderr, new RegExp(`its pid ${pid} now names a process of this session that did not answer \\(the answer came from pid \\d+\\): a recycled pid`));
    }
    assert.ok(attacker!.count(/^connection$/) >= 2, attacker!.lines.join(' | '));
    assert.equal(attacker!.count(/^bytes /), 0, `the impostor received zero bytes (${attacker!.lines.join(' | ')})`);
  });
}

test('without SO_PEERPIDFD (an older kernel, emulated) the clients still use their own session\'s daemon', { skip: needsRoot('needs root to create audit sessions') }, async (t) => {
  const undo = undoer(t);
  const sb = sandbox();
  undo(() => sb.cleanup());
  const proj = await project(sb);
  const env: NodeJS.ProcessEnv = { ...sb.env, LD_PRELOAD: oldKernelShim(sb), PWD: proj };
  const { victim } = await Victim.start();
  undo(() => victim.close());
  undo(() => victim.run(process.execPath, [KEYRACK, 'daemon', 'stop'], { env }));
  const unlock = await victim.run(process.execPath, [KEYRACK, 'unlock'], { env, cwd: proj, input: 'pw\n' });
  assert.equal(unlock.code, 0, unlock.stderr);
  const st = await victim.run(process.execPath, [KEYRACK, 'status', '--json'], { env, cwd: proj });
  assert.equal(st.code, 0, st.stderr);
  assert.equal((JSON.parse(st.stdout) as { daemon: { verified: string } }).daemon.verified, 'session');
  const fast = await victim.run(FAST, ['/bin/false', KEYRACK, 'export', 'bash'], { env, cwd: proj });
  assert.equal(fast.code, 0, `the fast path was taken (${fast.stderr})`);
  assert.match(fast.stdout, /^export A='real-secret'$/m);
  const exec = await victim.run(FAST, ['/bin/false', KEYRACK, 'exec', '--no-mask', '--', 'sh', '-c', 'printf %s "$A"'], { env, cwd: proj });
  assert.deepEqual([exec.code, exec.stdout], [0, 'real-secret']);
});
