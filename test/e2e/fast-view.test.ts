/**
 * `keyrack status [--json]` and `keyrack list [--json|--names]` through keyrack-fast
 * (issue 17): the daemon renders them by the views the Node CLI uses
 * (src/env/status-view.ts, list-view.ts; op cli-view) and keyrack-fast relays
 * stdout, stderr and the exit code — byte for byte what the Node CLI prints, in
 * every state (test/view-world.ts), through pipes and on a real terminal with
 * colour on and off, in this process's session mode and (root) in a fresh audit
 * session. Any other word goes to the Node CLI, and so does everything when no
 * daemon runs. Even a daemon that passed the kernel check gets no terminal control
 * sequence through (only SGR colour and newlines).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseDuration } from '../../src/duration.ts';
import { socketPath } from '../../src/paths.ts';
import { KEYRACK, ROOT, keyrack, needsRoot, run, sandbox, type Result } from '../helpers.ts';
import type { World } from '../view-world.ts';

const FAST = join(ROOT, 'native', 'build', 'Release', 'keyrack-fast');
const WORLD = join(ROOT, 'test', 'view-world.ts');

/**
 * The clock's part of an output: uptime, time left, secondsLeft. Two runs a second
 * apart differ there and nowhere else, so those are compared apart (fast's between
 * the Node CLI's before and after it) and the rest byte for byte.
 */
interface Clock { up: number[]; left: number[] }
const secs = (d: string) => (d === '0s' ? 0 : parseDuration(d)! / 1000);
function split(r: Result): { rest: Result; clock: Clock } {
  const clock: Clock = { up: [], left: [] };
  const strip = (s: string) => s
    .replace(/\bup ((?:\d+[dhms])+),/g, (_, d: string) => { clock.up.push(secs(d)); return 'up <T>,'; })
    .replace(/ ((?:\d+[dhms])+) left\b/g, (_, d: string) => { clock.left.push(secs(d)); return ' <T> left'; })
    .replace(/"secondsLeft": (\d+)/g, (_, n: string) => { clock.left.push(Number(n)); return '"secondsLeft": <T>'; });
  return { rest: { code: r.code, stdout: strip(r.stdout), stderr: strip(r.stderr) }, clock };
}

function assertSame(w: World): void {
  assert.ok(w.cases.length >= 30, 'the world ran');
  for (const c of w.cases) {
    const [before, fast, after] = [split(c.slow), split(c.fast), split(c.slowAfter)];
    assert.deepEqual(fast.rest, before.rest, `${c.label}: keyrack-fast prints what the Node CLI prints`);
    assert.deepEqual(after.rest, before.rest, `${c.label}: the Node CLI is steady`);
    for (const [k, xs] of Object.entries(fast.clock) as Array<[keyof Clock, number[]]>) {
      xs.forEach((x, i) => {
        const [lo, hi] = k === 'up' ? [before.clock[k][i]!, after.clock[k][i]!] : [after.clock[k][i]!, before.clock[k][i]!];
        assert.ok(lo <= x && x <= hi, `${c.label}: ${k} ${x} between the Node CLI's ${lo} and ${hi}`);
      });
    }
  }
  const says = (label: string) => w.cases.find((c) => c.label === label)!.fast;
  // The world is what it claims: the states, the colour and the refusals are there.
  assert.match(says('allowed: status (pipes)').stdout, /^ {2}HELD +ready\n {2}LOCKED +locked\n {2}GONE +absent\n/m);
  assert.match(says('allowed: status (pipes)').stdout, /EXEC_HELD +\S+ left \(for keyrack exec only: exec unlocked it\)/);
  assert.match(says('allowed: status (pipes)').stdout, /TEAM_HELD \(team\) +\S+ left/);
  assert.match(says('allowed: list (pipes)').stdout, /^LOCKED +team .* overridden$/m);
  assert.match(says('allowed: list (terminal, colour)').stdout, /\x1b\[32mready/);
  assert.doesNotMatch(says('allowed: list (terminal, NO_COLOR)').stdout, /\x1b/);
  assert.doesNotMatch(says('allowed: list (terminal, TERM=dumb)').stdout, /\x1b/);
  assert.match(says('untrusted: status (pipes)').stdout, /untrusted-\\e\]0;title\\x07-\\e\[2J\/\.keyrack \(untrusted/);
  assert.equal(says('bad-manifest: status (pipes)').code, 2);
  assert.equal(says('bad-team: status --json (pipes)').code, 2);
  assert.match(says('bad-team: list (pipes)').stderr, /^keyrack: .*\.keyrack\.team/);
}

async function world(session: boolean): Promise<World> {
  const argv = [process.execPath, '--import', 'tsx', WORLD];
  // A fresh audit session: this sh and everything it starts (the daemon too).
  const r = session ? await run('sh', ['-c', 'echo 1000 > /proc/self/loginuid || exit 99; exec "$@"', 'sh', ...argv], { cwd: ROOT }) : await run(argv[0]!, argv.slice(1), { cwd: ROOT });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as World;
}

test('keyrack-fast status and list print what the Node CLI prints, in every state', async () => {
  assertSame(await world(false));
});

test('and so in a fresh login session (the session check, verified: session)', { skip: needsRoot('starts an audit session') }, async () => {
  const w = await world(true);
  assert.notEqual(w.session.trim(), '4294967295', 'ran in an audit session');
  assert.match(w.cases.find((c) => c.label === 'home: status (pipes)')!.fast.stdout, /^verified +by this client: your uid, and in this login session/m);
  assertSame(w);
});

test('and so from the user-wide daemon a login session opted in to (verified: user-wide, uid-only)', { skip: needsRoot('starts an audit session') }, async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  assert.equal((await keyrack(['init'], { env: sb.env, input: 'pw\n' })).code, 0);
  assert.equal((await keyrack(['set', 'A'], { env: sb.env, input: 'a\n' })).code, 0);
  writeFileSync(join(sb.env.XDG_CONFIG_HOME!, 'keyrack', 'user-daemon'), '', { mode: 0o644 });
  // As systemd --user runs it: no session, the flag set.
  const daemon = spawn(process.execPath, [KEYRACK, 'daemon', 'run'], { env: { ...sb.env, KEYRACK_USER_DAEMON: '1' }, stdio: 'ignore' });
  t.after(() => { daemon.kill('SIGTERM'); });
  const userSock = join(sb.env.XDG_RUNTIME_DIR!, 'keyrack.u0.sock');
  for (let i = 0; i < 500 && !existsSync(userSock); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal((await keyrack(['unlock', 'A'], { env: sb.env, input: 'pw\n' })).code, 0);
  const out = sb.dir;
  const r = await run('sh', ['-c', `echo 1000 > /proc/self/loginuid || exit 99
    for f in status list; do for j in "" --json; do
      "$NODE" "$K" $f $j > "$OUT/slow-$f$j" 2>&1; echo $? >> "$OUT/slow-$f$j"
      "$FAST" /bin/false "$K" $f $j > "$OUT/fast-$f$j" 2>&1; echo $? >> "$OUT/fast-$f$j"
    done; done`], { env: { ...sb.env, PWD: sb.home, NODE: process.execPath, K: KEYRACK, FAST, OUT: out }, cwd: sb.home });
  assert.equal(r.code, 0, r.stderr);
  for (const f of ['status', 'status--json', 'list', 'list--json']) {
    const [slow, fast] = ['slow', 'fast'].map((side) => split({ code: 0, stdout: readFileSync(join(out, `${side}-${f}`), 'utf8'), stderr: '' }).rest);
    assert.deepEqual(fast, slow, `${f}: keyrack-fast prints what the Node CLI prints`);
  }
  assert.match(readFileSync(join(out, 'fast-status'), 'utf8'), /^verified +by this client: your uid \(you opted in to a user-wide daemon/m);
  const json = JSON.parse(readFileSync(join(out, 'fast-status--json'), 'utf8').replace(/\d+\n$/, '')) as { socket: string; daemon: { verified: string; shared: boolean } };
  assert.deepEqual([json.socket, json.daemon.verified, json.daemon.shared], [userSock, 'user-wide, uid-only', true]);
});

test('anything else, and everything without a daemon, goes to the Node CLI', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const env = { ...sb.env, PWD: sb.home };
  // No daemon: handed over, and the Node CLI says it is not running.
  const off = await run(FAST, ['/bin/echo', 'HANDED-OVER', 'status'], { env, cwd: sb.home });
  assert.equal(off.stdout, 'HANDED-OVER status\n');
  const slow = await keyrack(['status'], { env, cwd: sb.home });
  assert.match(slow.stdout, /^daemon +not running/m);
  assert.deepEqual(await run(FAST, [process.execPath, KEYRACK, 'status'], { env, cwd: sb.home }), slow);

  assert.equal((await keyrack(['init'], { env, input: 'pw\n' })).code, 0);
  assert.equal((await keyrack(['set', 'A'], { env, input: 'a\n' })).code, 0);
  assert.equal((await keyrack(['unlock', 'A'], { env, input: 'pw\n' })).code, 0);
  assert.equal((await run(FAST, ['/bin/false', KEYRACK, 'status'], { env, cwd: sb.home })).code, 0, 'the daemon answers');
  for (const args of [['status', '--help'], ['list', '-h'], ['status', '--names'], ['list', '--json', '--names'], ['list', 'extra'], ['status', '--jso'], ['list', '--json=1']]) {
    const r = await run(FAST, ['/bin/echo', 'HANDED-OVER', ...args], { env, cwd: sb.home });
    assert.deepEqual([r.code, r.stdout], [0, `HANDED-OVER ${args.join(' ')}\n`], `${args.join(' ')}: the Node CLI's`);
  }
  const help = await run(FAST, [process.execPath, KEYRACK, 'status', '--help'], { env, cwd: sb.home });
  assert.deepEqual(help, await keyrack(['status', '--help'], { env, cwd: sb.home }));
  // A registry that does not parse: list's error is the Node CLI's to word.
  writeFileSync(join(sb.env.XDG_CONFIG_HOME!, 'keyrack', 'registry.json'), '{ not json');
  assert.equal((await run(FAST, ['/bin/echo', 'HANDED-OVER', 'list'], { env, cwd: sb.home })).stdout, 'HANDED-OVER list\n');
  const broken = await run(FAST, [process.execPath, KEYRACK, 'list'], { env, cwd: sb.home });
  assert.match(broken.stderr, /^keyrack: .*registry\.json/);
  assert.deepEqual([broken.code, broken], [2, await keyrack(['list'], { env, cwd: sb.home })]);
});

test('a view answer with terminal control codes is refused, even from a same-session daemon', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const sock = socketPath(sb.env, true);
  const answers = join(sb.dir, 'answers.json');
  writeFileSync(answers, '{}');
  const fake = spawn(process.execPath, [join(ROOT, 'test', 'sockets', 'fake-daemon.mjs'), sock, answers], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { fake.kill('SIGTERM'); });
  const lines: string[] = [];
  createInterface({ input: fake.stdout! }).on('line', (l) => lines.push(l));
  for (let i = 0; i < 250 && !lines.some((l) => l.startsWith('listening')); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(lines.some((l) => l.startsWith('listening')), 'the fake daemon is up');
  const env = { ...sb.env, PWD: sb.dir };
  const shown = sock.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  // What the views print goes through unchanged: text, newlines, SGR colour, the exit code.
  const fine = 'KEY  VAULT\n\x1b[1mA\x1b[22m  \x1b[32mready\x1b[39m ünï\n\x1b[m\x1b[0;1m\n';
  writeFileSync(answers, JSON.stringify({ 'cli-view': { code: 2, stdout: fine, stderr: 'keyrack: a note\n' } }));
  assert.deepEqual(await run(FAST, ['/bin/false', KEYRACK, 'list'], { env, cwd: sb.dir }), { code: 2, stdout: fine, stderr: 'keyrack: a note\n' });

  const hostile: Array<[string, string, string]> = [
    ['stdout', '\x1b]0;pwned\x07', 'an escape sequence that is not a colour'],
    ['stdout', 'ok\n\x1b]52;c;cHduZWQ=\x1b\\', 'an escape sequence that is not a colour'],
    ['stdout', '\x1b[2J\x1b[H', 'an escape sequence that is not a colour'],
    ['stdout', '\x1b[?25l', 'an escape sequence that is not a colour'],
    ['stdout', '\x1b[31', 'an escape sequence that is not a colour'],
    ['stdout', 'end\x1b', 'an escape sequence that is not a colour'],
    ['stderr', '\x1bc', 'an escape sequence that is not a colour'],
    ['stdout', 'a\rb', 'a control character'],
    ['stdout', 'a\tb', 'a control character'],
    ['stderr', 'bell\x07', 'a control character'],
    ['stdout', 'del\x7f', 'a control character'],
    ['stdout', '\u009b2J', 'a control character'],
    ['stdout', 'nul\0', 'a control character'],
  ];
  for (const [stream, text, why] of hostile) {
    writeFileSync(answers, JSON.stringify({ 'cli-view': { code: 0, stdout: stream === 'stdout' ? text : 'x\n', stderr: stream === 'stderr' ? text : '' } }));
    for (const form of [['status'], ['list', '--json']]) {
      const r = await run(FAST, ['/bin/false', KEYRACK, ...form], { env, cwd: sb.dir });
      const label = `${form.join(' ')} ${JSON.stringify(text)} on ${stream}`;
      assert.deepEqual([r.code, r.stdout], [1, ''], `${label}: nothing printed, /bin/false ran`);
      assert.match(r.stderr, new RegExp(`^keyrack: refusing the ${form[0]} answer the daemon on ${shown} sent: ${why}\\n$`), label);
    }
  }
});
