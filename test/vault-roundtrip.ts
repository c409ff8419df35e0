/**
 * The round trip every vault test makes with its real keys: `keyrack unlock` in
 * a project, then the values as the hook sets them in a real interactive bash
 * (through a pty, cd in and out) and as `keyrack exec` hands them to a command,
 * byte for byte, and gone again once the shell leaves the project.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyrack, run, KEYRACK, type Sandbox } from './helpers.ts';
import { ShellSession } from './shell-session.ts';

let projects = 0;

/**
 * `values`: key name → the exact value its vault holds. `unlockEnv` is the
 * environment unlock runs in (a vault may need e.g. a D-Bus address there);
 * the hook and exec run without it, from the daemon alone.
 */
export async function roundTrip(sb: Sandbox, values: Record<string, string>, unlockEnv: NodeJS.ProcessEnv = sb.env): Promise<void> {
  const proj = join(sb.dir, `proj${++projects}`);
  mkdirSync(proj);
  const names = Object.keys(values);
  writeFileSync(join(proj, '.keyrack'), names.join('\n') + '\n');
  const allow = await keyrack(['allow', proj], { env: sb.env });
  assert.equal(allow.code, 0, allow.stderr);
  const u = await keyrack(['unlock'], { env: { ...unlockEnv, PWD: proj }, cwd: proj });
  assert.equal(u.code, 0, `unlock: ${u.stderr}`);
  assert.match(u.stderr, new RegExp(`unlocked ${names.length} keys?`));

  // exec: the command gets exactly these values.
  const probe = `process.stdout.write(JSON.stringify(Object.fromEntries(${JSON.stringify(names)}.map((n) => [n, process.env[n] ?? null]))))`;
  const ex = await run(process.execPath, [KEYRACK, 'exec', '--no-mask', '--', process.execPath, '-e', probe], { env: { ...sb.env, PWD: proj }, cwd: proj });
  assert.equal(ex.code, 0, `exec: ${ex.stderr}`);
  assert.deepEqual(JSON.parse(ex.stdout), values, 'exec hands the command the values');

  // The hook in a real bash: set on cd in, byte-exact; unset on cd out.
  const sh = await ShellSession.start('bash', sb, { cwd: sb.dir });
  try {
    await sh.run(`cd ${proj}`);
    const inside = await sh.env();
    for (const [n, v] of Object.entries(values)) assert.equal(inside.get(n)?.toString('utf8'), v, `the hook sets ${n}`);
    await sh.run('cd ..');
    const outside = await sh.env();
    for (const n of names) assert.equal(outside.has(n), false, `the hook unsets ${n} on leaving`);
  } finally {
    await sh.close();
  }
}
