/**
 * The C client (keyrack-fast, native/: the hook's fast path and the `keyrack`
 * launcher) relays what the daemon computed and is never a second implementation;
 * where it must decide something itself — which socket to connect to, and exec's
 * flag grammar — this test asks it and the TypeScript side the same questions and
 * requires the same answers. Black-box on both sides:
 *  - the socket: both run under strace, which shows every connect() they attempt
 *    (the Node CLI through `status`, keyrack-fast through `export`), in a fresh
 *    audit session or in none (uid-only), with a long, an exactly-fitting, an unset
 *    and a relative XDG_RUNTIME_DIR; where the TS side uses its hashed name for a
 *    path too long for a socket, the C side must connect nowhere and hand over.
 *  - exec: keyrack-fast talks to a stand-in daemon that records the keys it is
 *    asked for and answers "no variables"; the command then runs (or the C side
 *    hands over to the CLI, here a stand-in that says so). The TS answer is the
 *    CLI's parser, src/exec-args.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/errors.ts';
import { asksExecHelp, parseExecArgs } from '../../src/exec-args.ts';
import { socketPath } from '../../src/paths.ts';
import { resolveProgram } from '../../src/program.ts';
import { KEYRACK, ROOT, needsRoot, requireTool, run, sandbox } from '../helpers.ts';

const FAST = join(ROOT, 'native', 'build', 'Release', 'keyrack-fast');
const UNSET = '4294967295';
/** keyrack-fast's stand-in for the Node CLI it hands over to: prints its argv, so a hand-over shows. */
const HANDOVER = ['/bin/echo', 'HANDED-OVER'];

interface Case {
  name: string;
  session: 'new' | 'unset';
  /** XDG_RUNTIME_DIR; undefined: unset. */
  xdg?: string;
  /** Run as this uid (with a HOME and /tmp/runtime-UID of its own); default root. */
  uid?: number;
}

/** The keyrack sockets a traced run tried to connect to, in order. */
function connects(traceFile: string): string[] {
  const out: string[] = [];
  for (const m of readFileSync(traceFile, 'utf8').matchAll(/connect\(\d+, \{sa_family=AF_UNIX, sun_path="([^"]*)"\}/g)) {
    if (m[1]!.includes('keyrack')) out.push(m[1]!);
  }
  return out;
}

/** A path of the TS side's hashed fallback (too long for sun_path): the C side hands those to the CLI. */
const hashed = (p: string) => /^\/tmp\/keyrack-\d+\/[0-9a-f]{16}\.sock$/.test(p);

/**
 * Runs both clients in one shell, so both are in the same audit session: the Node
 * CLI (`status --json`, which looks for its daemon) and keyrack-fast (`export bash`).
 */
async function traceBoth(c: Case, env: NodeJS.ProcessEnv, dir: string) {
  const script = `
    if [ "$SESSION" = new ]; then echo 1000 > /proc/self/loginuid || exit 99
    else echo ${UNSET} > /proc/self/loginuid 2>/dev/null || true; fi
    cat /proc/self/sessionid > "$DIR/session"
    # strace runs as root around setpriv: keyrack-fast makes itself non-dumpable, and a
    # tracer of the same (non-root) uid could then no longer read its connect() address.
    if [ -n "$AS" ]; then
      strace -f -qq -s 512 -e trace=connect -o "$DIR/ts.trace" setpriv --reuid="$AS" --regid="$AS" --clear-groups "$NODE" "$KEYRACK" status --json > /dev/null 2>&1
      strace -f -qq -s 512 -e trace=connect -o "$DIR/c.trace" setpriv --reuid="$AS" --regid="$AS" --clear-groups "$FAST" ${HANDOVER.join(' ')} export bash > "$DIR/c.out" 2>&1
    else
      strace -f -qq -s 512 -e trace=connect -o "$DIR/ts.trace" "$NODE" "$KEYRACK" status --json > /dev/null 2>&1
      strace -f -qq -s 512 -e trace=connect -o "$DIR/c.trace" "$FAST" ${HANDOVER.join(' ')} export bash > "$DIR/c.out" 2>&1
    fi
    exit 0`;
  const r = await run('sh', ['-c', script], {
    env: { ...env, SESSION: c.session, DIR: dir, AS: c.uid === undefined ? '' : String(c.uid), NODE: process.execPath, KEYRACK, FAST },
  });
  assert.equal(r.code, 0, `${c.name}: ${r.stderr}`);
  const session = readFileSync(join(dir, 'session'), 'utf8').trim();
  // The case really ran in the session it names (else it would silently test another).
  if (c.session === 'unset') assert.equal(session, UNSET, c.name);
  else assert.notEqual(session, UNSET, c.name);
  return { session, ts: connects(join(dir, 'ts.trace')), c: connects(join(dir, 'c.trace')), cOut: readFileSync(join(dir, 'c.out'), 'utf8') };
}

test('the socket: keyrack-fast connects where the TS side does, in the same order, or hands over where TS uses a hashed name', {
  skip: needsRoot('needs root to start and end audit sessions and to run as another uid') || (!requireTool('strace') && 'needs strace') || (!requireTool('setpriv') && 'needs setpriv'),
}, async (t) => {
  const sb = sandbox();
  // A uid of this run's own, so its /run/user and /tmp/runtime dirs are nobody else's.
  const other = 60000 + (process.pid % 5000);
  const otherHome = mkdtempSync(join(tmpdir(), 'kr-u-'));
  const otherRun = `/tmp/runtime-${other}`;
  try {
    assert.equal(existsSync(`/run/user/${other}`), false, `/run/user/${other} exists: pick another uid`);
    chownSync(otherHome, other, other);
    mkdirSync(otherRun, { mode: 0o700 });
    chownSync(otherRun, other, other);
    const base = sb.env.XDG_RUNTIME_DIR!;
    /** A runtime dir whose socket path for `tag` is exactly `bytes` long. */
    const sized = (tag: string, bytes: number) => {
      const name = `/keyrack.${tag}.sock`;
      const pad = bytes - base.length - name.length - 1;
      return `${base}/${'d'.repeat(pad)}`;
    };
    const cases: Case[] = [
      { name: 'uid-only (no audit session)', session: 'unset', xdg: base },
      { name: 'a login session: its own socket, then the user-wide one', session: 'new', xdg: base },
      { name: 'uid-only, socket path exactly 107 bytes', session: 'unset', xdg: sized('u0', 107) },
      { name: 'uid-only, socket path 108 bytes', session: 'unset', xdg: sized('u0', 108) },
      { name: 'a login session, a long XDG_RUNTIME_DIR', session: 'new', xdg: `${base}/${'x'.repeat(120)}` },
      { name: 'XDG_RUNTIME_DIR unset, uid-only: /tmp/runtime-UID', session: 'unset', uid: other },
      { name: 'XDG_RUNTIME_DIR unset, a login session', session: 'new', uid: other },
      { name: 'XDG_RUNTIME_DIR relative (ignored, as XDG says)', session: 'unset', xdg: 'relative/run', uid: other },
    ];
    let n = 0;
    for (const c of cases) {
      const dir = join(c.uid === undefined ? sb.dir : otherHome, `case${n++}`);
      mkdirSync(dir);
      chownSync(dir, c.uid ?? 0, c.uid ?? 0);
      const env: NodeJS.ProcessEnv = c.uid === undefined ? { ...sb.env } : {
        PATH: sb.env.PATH, LANG: 'C.UTF-8', HOME: otherHome,
        XDG_CONFIG_HOME: join(otherHome, 'c'), XDG_DATA_HOME: join(otherHome, 'd'), XDG_STATE_HOME: join(otherHome, 's'),
      };
      delete env.XDG_RUNTIME_DIR;
      if (c.xdg !== undefined) env.XDG_RUNTIME_DIR = c.xdg;
      const got = await traceBoth(c, env, dir);
      t.diagnostic(`${c.name} (session ${got.session}): TS ${JSON.stringify(got.ts)}, C ${JSON.stringify(got.c)}`);
      assert.ok(got.ts.length > 0, `${c.name}: the TS client looked for a daemon`);
      const firstHashed = got.ts.findIndex(hashed);
      const expected = firstHashed === -1 ? got.ts : got.ts.slice(0, firstHashed);
      assert.deepEqual(got.c, expected, `${c.name}: TS tried ${JSON.stringify(got.ts)}`);
      assert.equal(got.cOut, `${HANDOVER[1]} export bash\n`, `${c.name}: no daemon there, so keyrack-fast hands over`);
      if (c.uid === undefined && c.session === 'unset' && firstHashed === -1) {
        // And both agree with paths.ts, asked in-process (this process is root, uid-only here too).
        assert.deepEqual(got.ts, [socketPath({ XDG_RUNTIME_DIR: c.xdg }, false, null)], c.name);
      }
    }
  } finally {
    rmSync(otherHome, { recursive: true, force: true });
    rmSync(otherRun, { recursive: true, force: true });
    sb.cleanup();
  }
});

/** The TS answer: the keys, the command and --mask/--no-mask, or 'refused' (an error, or exec's own --help). */
function tsExec(argv: string[]): { keys: string[]; cmd: string[]; mask?: boolean } | 'refused' {
  if (asksExecHelp(argv)) return 'refused';
  try {
    return parseExecArgs(argv);
  } catch (e) {
    if (e instanceof UserError) return 'refused';
    throw e;
  }
}

/** A stand-in daemon at `path`: greets as keyrack does, records each request's keys (and program), answers "code 0" with `vars`. */
function standInDaemon(path: string, vars: Record<string, string> = {}): Promise<{ server: Server; asked: string[][]; programs: unknown[] }> {
  const asked: string[][] = [];
  const programs: unknown[] = [];
  const server = createServer((s: Socket) => {
    s.setEncoding('utf8');
    s.write(JSON.stringify({ keyrack: 1, pid: process.pid, session: null, mode: 'uid-only', gen: 'x' }) + '\n');
    let buf = '';
    s.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl === -1) return;
      const req = JSON.parse(buf.slice(0, nl)) as { id: number; keys: string[]; program?: unknown };
      asked.push(req.keys);
      programs.push(req.program);
      s.end(JSON.stringify({ id: req.id, ok: true, code: 0, vars }) + '\n');
    });
    s.on('error', () => {});
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve({ server, asked, programs }));
  });
}

test('exec\'s flag grammar: keyrack-fast asks for the keys and runs the command the TS parser reads, and hands over exactly where TS refuses', async () => {
  const sb = sandbox();
  const { server, asked } = await standInDaemon(socketPath(sb.env, false));
  try {
    const cases: string[][] = [
      ['--key', 'A', 'echo', 'ran'],
      ['-k', 'A', '-k', 'B=b', '--', 'echo', '--key=C'],
      ['--key=A', 'echo', '-k', 'x'],
      ['--key=', 'echo', 'empty key'],
      ['-k', '--', 'echo', 'the key is --'],
      ['--', 'echo', '--key', 'A'],
      ['echo', '--key', 'A', '--'],
      ['--key'],
      ['--key', 'A'],
      ['--'],
      ['-x', 'echo'],
      ['--keys', 'A', 'echo'],
      ['--help'],
      ['-k', 'A', '-h', 'echo'],
    ];
    for (const argv of cases) {
      const want = tsExec(argv);
      const before = asked.length;
      const r = await run(FAST, [...HANDOVER, 'exec', ...argv], { env: sb.env });
      const label = JSON.stringify(argv);
      if (want === 'refused') {
        assert.equal(asked.length, before, `${label}: TS refuses, so keyrack-fast must not ask the daemon`);
        assert.equal(r.stdout, `${HANDOVER[1]} exec ${argv.join(' ')}\n`, `${label}: handed over`);
      } else {
        assert.equal(asked.length, before + 1, `${label}: one request`);
        assert.deepEqual(asked[before], want.keys, `${label}: the keys`);
        assert.equal(want.cmd[0], 'echo', 'every case that runs a command runs echo');
        assert.equal(r.stdout, `${want.cmd.slice(1).join(' ')}\n`, `${label}: the command and its arguments`);
      }
    }
  } finally {
    server.close();
    sb.cleanup();
  }
});

test('exec --mask / --no-mask: keyrack-fast masks exactly where the TS parser says (default: masked off a terminal), and reports the program it runs', async () => {
  const sb = sandbox();
  const PROBE = 'probe-value-8d41c7';
  const { server, asked, programs } = await standInDaemon(socketPath(sb.env, false), { KR_PROBE: PROBE });
  try {
    const show = ['printenv', 'KR_PROBE'];
    const cases: string[][] = [
      ['--mask', '--', ...show],
      ['--no-mask', ...show],
      ['--mask', '--no-mask', ...show],
      ['--no-mask', '-k', 'A', '--mask', ...show],
      [...show], // stdout is a pipe here: masked by default
      ['--', '--mask', 'x'], // after --: the command's, not ours
      ['--mask=yes', ...show],
      ['--masked', ...show],
      ['--no-mask'],
    ];
    for (const argv of cases) {
      const want = tsExec(argv);
      const before = asked.length;
      const r = await run(FAST, [...HANDOVER, 'exec', ...argv], { env: sb.env });
      const label = JSON.stringify(argv);
      if (want === 'refused') {
        assert.equal(asked.length, before, `${label}: TS refuses, so keyrack-fast must not ask the daemon`);
        assert.equal(r.stdout, `${HANDOVER[1]} exec ${argv.join(' ')}\n`, `${label}: handed over`);
        continue;
      }
      if (want.cmd[0] !== 'printenv') {
        assert.equal(asked.length, before, `${label}: no such command, so keyrack-fast hands over before asking`);
        assert.equal(r.stdout, `${HANDOVER[1]} exec ${argv.join(' ')}\n`, `${label}: handed over`);
        continue;
      }
      assert.equal(asked.length, before + 1, `${label}: one request`);
      assert.deepEqual(asked[before], want.keys, `${label}: the keys`);
      assert.deepEqual(programs[before], { path: resolveProgram('printenv', sb.env.PATH), argv0: 'printenv' }, `${label}: the program`);
      const masked = want.mask ?? true;
      assert.equal(r.stdout, masked ? '<KR_PROBE>\n' : `${PROBE}\n`, `${label}: masked=${masked}`);
    }
  } finally {
    server.close();
    sb.cleanup();
  }
});
