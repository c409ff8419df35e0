/**
 * The tcsh and elvish prompt gates obey the rules of the other three: only a
 * regular, non-symlink .keyrack is read, and at most 64 KiB + 1 of it (tcsh reads
 * none at all: it has no builtin that could; elvish 0.19, without a bounded read,
 * at most 1025 whole lines), so a link to another file, a FIFO or a huge file of
 * short lines cannot stall or slow the prompt. Seen in real interactive shells
 * under strace: what the shell process itself (all its threads, none of its
 * children) opens and reads.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyrack, requireTool, sandbox } from '../helpers.ts';
import { NOOP, ShellSession, type ShellName } from '../shell-session.ts';

const sb = sandbox();
after(() => sb.cleanup());

/** A strace -f line's pid, and whether it belongs to the traced shell's own process. */
function shellLines(log: string): string[] {
  const lines = readFileSync(log, 'utf8').split('\n');
  const shell = Number(/^(\d+) /.exec(lines[0] ?? '')?.[1]);
  const tgid = new Map<number, number>([[shell, shell]]);
  const pendingClone = new Map<number, string>();
  const out: string[] = [];
  for (const line of lines) {
    const m = /^(\d+) +(.*)$/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    const call = m[2]!;
    if (/^clone3?\(.*<unfinished \.\.\.>$/.test(call)) pendingClone.set(pid, call);
    const clone = /^(?:clone3?\(|<\.\.\. clone3? resumed>).*\) = (\d+)$/.exec(call);
    if (clone) {
      const full = (call.startsWith('<...') ? pendingClone.get(pid) ?? '' : '') + call;
      tgid.set(Number(clone[1]), full.includes('CLONE_THREAD') ? (tgid.get(pid) ?? pid) : Number(clone[1]));
    }
    if (tgid.get(pid) === shell) out.push(call);
  }
  return out;
}

const opened = (calls: string[], path: string) => calls.filter((c) => /^open(at)?\(/.test(c) && c.includes(`"${path}"`));
/** Bytes the shell read from fds that are this file (strace -y names them). */
const bytesRead = (calls: string[], path: string) => calls
  .filter((c) => c.startsWith(`read(`) && c.includes(`<${path}>`))
  .reduce((n, c) => n + Math.max(0, Number(/= (-?\d+)/.exec(c)?.[1] ?? 0)), 0);

for (const shell of ['tcsh', 'elvish'] as ShellName[]) {
  test(`${shell}: the gate reads only a regular .keyrack, and at most 64 KiB + 1 of it`, async (t) => {
    if (!requireTool(shell) || !requireTool('strace')) return t.skip('missing tools');
    const base = join(sb.dir, shell);
    const dirs = { ok: join(base, 'ok'), big: join(base, 'big'), link: join(base, 'link'), fifo: join(base, 'fifo') };
    for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
    const set = await keyrack(['set', 'GATE_KEY', '--vault', 'os.direct'], { env: sb.env, input: 'gate value\n' });
    assert.equal(set.code, 0, set.stderr);
    writeFileSync(join(dirs.ok, '.keyrack'), 'GATE_KEY\n');
    assert.equal((await keyrack(['allow', dirs.ok], { env: sb.env })).code, 0);
    // 1 MiB of short lines (elvish 0.19 bounds its read by lines: 1025 of 36 bytes), then a key.
    writeFileSync(join(dirs.big, '.keyrack'), `${'# a comment, as a manifest may hold\n'.repeat(30_000)}GATE_KEY\n`);
    symlinkSync(join(dirs.big, '.keyrack'), join(dirs.link, '.keyrack'));
    execFileSync('mkfifo', [join(dirs.fifo, '.keyrack')]);

    const log = join(sb.dir, `${shell}.gate.strace`);
    const s = await ShellSession.start(shell, sb, {
      cwd: base, straceLog: log, straceTrace: 'execve,fork,vfork,clone,clone3,open,openat,read',
    });
    try {
      // Even with KEYRACK_STATE unset by hand (tcsh fails on an undefined variable).
      await s.run(shell === 'tcsh' ? 'unsetenv KEYRACK_STATE' : 'unset-env KEYRACK_STATE');
      const out = await s.run('cd ok');
      assert.doesNotMatch(out, /Undefined variable|Exception/);
      assert.equal((await s.env()).get('GATE_KEY')?.toString(), 'gate value', 'a regular, allowed manifest is used');
      // A FIFO the gate opened would block the prompt here: run() would time out.
      for (const d of ['big', 'link', 'fifo']) {
        await s.run(`cd ../${d}`);
        await s.run(NOOP[shell]);
      }
      assert.equal((await s.env()).has('GATE_KEY'), false);
    } finally {
      await s.close();
    }
    const calls = shellLines(log);
    assert.ok(calls.length > 100, 'the shell\'s own syscalls were found in the log');
    assert.deepEqual(opened(calls, join(dirs.link, '.keyrack')), [], 'a symlinked .keyrack is never opened');
    assert.deepEqual(opened(calls, join(dirs.fifo, '.keyrack')), [], 'a FIFO .keyrack is never opened');
    const big = bytesRead(calls, join(dirs.big, '.keyrack'));
    if (shell === 'tcsh') {
      assert.deepEqual(calls.filter((c) => /^open(at)?\(.*\/\.keyrack"/.test(c)), [], 'tcsh opens no .keyrack at all');
    } else {
      assert.ok(opened(calls, join(dirs.ok, '.keyrack')).length > 0, 'elvish reads a regular manifest');
      // Once per run of the gate (after the cd and before each prompt), each bounded.
      const runs = opened(calls, join(dirs.big, '.keyrack')).length;
      assert.ok(runs > 0 && big > 0 && big <= runs * (65537 + 64), `read ${big} bytes of a 1 MiB .keyrack in ${runs} runs`);
    }
  });
}
