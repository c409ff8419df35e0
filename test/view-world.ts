/**
 * The world test/e2e/fast-view.test.ts compares keyrack-fast's status and list in,
 * run as a child so that a root test can start it in a fresh audit session (the
 * daemon it starts, and every client, are then in that session): a sandbox with keys
 * ready, locked and absent (os.secure, os.direct, cmd), one held for exec only, one
 * with --idle, team values held and not, projects allowed / untrusted (its
 * directory's name holds an ESC) / changed / with a manifest or team file that does
 * not parse, and exec-only marks in the registry and on a manifest line. For every
 * form in every directory: the Node CLI, keyrack-fast (with /bin/false as its Node,
 * so any hand-over shows as exit 1 and no output), the Node CLI again — through
 * pipes, and through a real pseudo-terminal with colour on and off.
 *   node --import tsx test/view-world.ts   → one JSON document on stdout
 */
import { mkdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonConnection } from '../src/daemon/client.ts';
import { KEYRACK, ROOT, keyrack, run, sandbox, type Result } from './helpers.ts';
import { Pty } from './pty.ts';

const FAST = join(ROOT, 'native', 'build', 'Release', 'keyrack-fast');
const FORMS = [['status'], ['status', '--json'], ['list'], ['list', '--json'], ['list', '--names']];

/** One form in one place: the Node CLI before and after keyrack-fast, and keyrack-fast. */
export interface Case {
  label: string;
  slow: Result;
  fast: Result;
  slowAfter: Result;
}

/** What the world saw, and the session it ran in. */
export interface World {
  session: string;
  cases: Case[];
}

async function ptyRun(argv: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Result> {
  const p = new Pty(argv, { env, cwd });
  const code = await p.exited;
  // stdout and stderr share the terminal: both in stdout.
  return { code, stdout: p.output, stderr: '' };
}

async function main(): Promise<World> {
  const sb = sandbox();
  const cases: Case[] = [];
  try {
    const ok = async (args: string[], input = '', cwd?: string) => {
      const r = await keyrack(args, { env: cwd ? { ...sb.env, PWD: cwd } : sb.env, input, cwd });
      if (r.code !== 0) throw new Error(`keyrack ${args.join(' ')}: ${r.stderr}`);
    };
    await ok(['init'], 'pw\n');
    await ok(['set', 'HELD'], 'held-value');
    await ok(['set', 'IDLE'], 'idle-value');
    await ok(['set', 'LOCKED'], 'locked-value');
    await ok(['set', 'GONE'], 'gone-value');
    await ok(['set', 'DIRECT', '--vault', 'os.direct'], 'direct-value');
    await ok(['set', 'MARKED', '--vault', 'os.direct'], 'marked-value');
    await ok(['mark', 'MARKED', '--exec-only']);
    await ok(['set', 'VIA_CMD', '--vault', 'cmd', '--', 'printf', '%s', 'cmd-value']);
    rmSync(join(sb.env.XDG_DATA_HOME!, 'keyrack', 'secure', 'keys', 'GONE.age'));
    await ok(['unlock', 'HELD'], 'pw\n');
    await ok(['unlock', 'IDLE', '--idle', '10m'], 'pw\n');
    // Held for exec only, as exec's unlock on a terminal puts it.
    const c = await DaemonConnection.open(sb.env);
    if (!c) throw new Error('no daemon after unlock');
    await c.request({ op: 'put', ttlMs: 3_600_000, keys: { EXEC_HELD: { value: 'exec-held' } }, execOnly: true });
    c.close();

    const dir = (name: string) => {
      const d = join(sb.dir, name);
      mkdirSync(d);
      return d;
    };
    const allowed = dir('allowed');
    writeFileSync(join(allowed, '.keyrack'), 'HELD\nLOCKED\nGONE\nDIRECT\nMARKED\nOPT?\nALIAS = IDLE\nLINE = DIRECT exec-only\nTEAM_HELD\nTEAM_LOCKED\n');
    await ok(['team', 'init'], '', allowed);
    for (const k of ['TEAM_HELD', 'TEAM_LOCKED', 'LOCKED']) await ok(['team', 'set', k], `team-${k}\n`, allowed);
    await ok(['allow'], '', allowed);
    await ok(['unlock', 'TEAM_HELD'], 'pw\n', allowed);
    const untrusted = dir('untrusted-\x1b]0;title\x07-\x1b[2J');
    writeFileSync(join(untrusted, '.keyrack'), 'HELD\nDIRECT\n');
    const changed = dir('changed');
    writeFileSync(join(changed, '.keyrack'), 'HELD\n');
    await ok(['allow'], '', changed);
    appendFileSync(join(changed, '.keyrack'), 'LOCKED\n');
    const badManifest = dir('bad-manifest');
    writeFileSync(join(badManifest, '.keyrack'), 'HELD\nnot a name!\n');
    const badTeam = dir('bad-team');
    writeFileSync(join(badTeam, '.keyrack'), 'HELD\n');
    writeFileSync(join(badTeam, '.keyrack.team'), 'this is no team file\n');
    await ok(['allow'], '', badTeam);

    const places: Array<[string, string]> = [['allowed', allowed], ['untrusted', untrusted], ['changed', changed], ['bad-manifest', badManifest], ['bad-team', badTeam], ['home', sb.home]];
    for (const [name, cwd] of places) {
      const env = { ...sb.env, PWD: cwd };
      for (const form of FORMS) {
        const slow = () => run(process.execPath, [KEYRACK, ...form], { env, cwd });
        cases.push({ label: `${name}: ${form.join(' ')} (pipes)`, slow: await slow(), fast: await run(FAST, ['/bin/false', KEYRACK, ...form], { env, cwd }), slowAfter: await slow() });
      }
    }
    // On a terminal: colour on (TERM set), and off by NO_COLOR and by TERM=dumb.
    const colour = { TERM: 'xterm-256color' };
    const terminals = [
      ['allowed', allowed, 'colour', colour], ['allowed', allowed, 'NO_COLOR', { ...colour, NO_COLOR: '1' }], ['allowed', allowed, 'TERM=dumb', { TERM: 'dumb' }],
      ['bad-team', badTeam, 'colour', colour],
    ] as const;
    for (const [name, cwd, mode, extra] of terminals) {
      const env = { ...sb.env, PWD: cwd, ...extra };
      for (const form of FORMS) {
        const slow = () => ptyRun([process.execPath, KEYRACK, ...form], env, cwd);
        cases.push({ label: `${name}: ${form.join(' ')} (terminal, ${mode})`, slow: await slow(), fast: await ptyRun([FAST, '/bin/false', KEYRACK, ...form], env, cwd), slowAfter: await slow() });
      }
    }
    return { session: (await run('cat', ['/proc/self/sessionid'], {})).stdout, cases };
  } finally {
    sb.cleanup();
  }
}

process.stdout.write(JSON.stringify(await main()));
