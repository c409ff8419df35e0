/**
 * The prompt gates of real bash, zsh and fish (through a pty, under strace) read
 * only a regular `.keyrack`, and at most 64 KiB + 1 of it (issue 10, item 3): a
 * link is never opened (not to a file, not to a FIFO, which would hang the prompt),
 * a FIFO is never opened, a huge file is not read whole at every prompt, and edits
 * of a regular manifest are still picked up at the next prompt.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { keyrack, requireTool, sandbox } from '../helpers.ts';
import { SHELLS, ShellSession } from '../shell-session.ts';

const sb = sandbox();
after(() => sb.cleanup());

const ready = (async () => {
  const r = await keyrack(['set', 'GATE_A', '--vault', 'os.direct'], { env: sb.env, input: 'gate value\n' });
  assert.equal(r.code, 0, r.stderr);
})();

/** Between the first two /bin/true runs after offset `from` of the log: how often `file` was opened, and the bytes read from it. */
function readsBetweenTrues(log: string, from: number, file: string): { opens: number; bytes: number } {
  const lines = readFileSync(log, 'utf8').slice(from).split('\n');
  const trues = lines.flatMap((l, i) => (/execve\("\/bin\/true"/.test(l) ? [i] : []));
  assert.ok(trues.length >= 2, 'expected the two bracketing /bin/true runs in the strace log');
  const between = lines.slice(trues[0]! + 1, trues[1]);
  return {
    opens: between.filter((l) => /\bopen(at)?\(/.test(l) && l.includes(`"${file}"`) && !/= -1/.test(l)).length,
    bytes: between.filter((l) => /\bread\(/.test(l) && l.includes(`<${file}>`)).reduce((n, l) => n + Number(/= (\d+)$/.exec(l)?.[1] ?? 0), 0),
  };
}

for (const shell of SHELLS) {
  test(`${shell}: the gate never reads a linked or non-regular .keyrack, reads a huge one with a bound, and sees edits`, async (t) => {
    if (!requireTool(shell) || !requireTool('strace')) return t.skip('missing tools');
    await ready;
    const base = join(sb.dir, shell);
    const d = { reg: join(base, 'reg'), link: join(base, 'link'), fifo: join(base, 'fifo'), fifolink: join(base, 'fifolink'), big: join(base, 'big') };
    for (const dir of Object.values(d)) mkdirSync(dir, { recursive: true });
    writeFileSync(join(d.reg, '.keyrack'), 'GATE_A\n');
    assert.equal((await keyrack(['allow', d.reg], { env: sb.env })).code, 0);
    const target = join(base, 'target');
    writeFileSync(target, 'GATE_A\n');
    symlinkSync('../target', join(d.link, '.keyrack'));
    const pipe = join(base, 'pipe');
    for (const f of [join(d.fifo, '.keyrack'), pipe]) assert.equal(spawnSync('mkfifo', [f]).status, 0);
    symlinkSync('../pipe', join(d.fifolink, '.keyrack'));
    const big = join(d.big, '.keyrack');
    writeFileSync(big, 'GATE_A\n'.repeat(150_000)); // ~1 MB of valid lines

    const log = join(sb.dir, `${shell}.gate.strace`);
    /** Lines of the strace log where any process (the shell, keyrack-fast, Node) opened or read one of `paths`. */
    const touched = (...paths: string[]) => readFileSync(log, 'utf8').split('\n').filter((l) =>
      /\b(open|openat|read)\(/.test(l) && paths.some((p) => l.includes(`"${p}"`) || l.includes(`<${p}>`)));
    const s = await ShellSession.start(shell, sb, { cwd: base, straceLog: log, straceTrace: 'execve,open,openat,read' });
    try {
      // A link to a regular file: never opened, at this prompt or the next.
      let out = await s.run('cd link');
      out += await s.run(':');
      assert.deepEqual(touched(join(d.link, '.keyrack'), target), [], 'opened or read the link');
      assert.match(out, /keyrack: .*\/link\/\.keyrack: is a symbolic link; keyrack reads only a regular \.keyrack file/);
      assert.equal(out.match(/is a symbolic link/g)?.length, 1, 'said once');
      assert.equal((await s.env()).has('GATE_A'), false, 'nothing loaded through the link');

      // A regular 1 MB manifest: an unchanged prompt reads at most 64 KiB + 1 (+ one buffer) of it.
      out = await s.run('cd ../big');
      const mark = statSync(log).size;
      await s.run('/bin/true');
      await s.run(':');
      await s.run('/bin/true');
      // Two prompts (after each line) between the two /bin/true: each opens it once.
      const { opens, bytes } = readsBetweenTrues(log, mark, big);
      assert.ok(opens >= 1, 'the gate read it');
      assert.ok(bytes <= opens * (65537 + 4096), `${opens} prompts read ${bytes} bytes of a ${statSync(big).size}-byte .keyrack`);
      assert.match(out, /\/big\/\.keyrack: is larger than 65536 bytes/);

      // A FIFO, and a link to one: the prompt comes back (run() waits for it), with the reason, and neither is opened.
      out = await s.run('cd ../fifo');
      assert.match(out, /\/fifo\/\.keyrack: is a FIFO; keyrack reads only a regular \.keyrack file/);
      out = await s.run('cd ../fifolink');
      assert.match(out, /\/fifolink\/\.keyrack: is a symbolic link/);
      assert.deepEqual(touched(join(d.fifo, '.keyrack'), join(d.fifolink, '.keyrack'), pipe), [], 'opened a FIFO');

      // A regular manifest: loaded; an edit is seen at the next prompt (and withdraws the trust).
      out = await s.run('cd ../reg');
      assert.match(out, /keyrack: \+GATE_A/);
      assert.deepEqual((await s.env()).get('GATE_A')?.toString(), 'gate value');
      appendFileSync(join(d.reg, '.keyrack'), 'GATE_B?\n');
      out = await s.run(':');
      assert.match(out, /keyrack: -GATE_A; \.keyrack changed since it was allowed — run keyrack allow to trust it again/);
      assert.equal((await s.env()).has('GATE_A'), false);
    } finally {
      await s.close();
    }
  });
}
