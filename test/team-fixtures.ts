/**
 * People for the team tests: each a sandbox of their own (HOME, XDG dirs, daemon)
 * with a real os.secure identity, and a real git to share a repository through a
 * bare remote. Helpers to read the plaintext identity with the real `age` (which
 * asks the passphrase at a terminal) and to cut one key's armored value out of a
 * team file, as a person would with sed, for `age -d -i`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyrack, run, sandbox, type Result, type Sandbox } from './helpers.ts';
import { Pty } from './pty.ts';

export interface Person {
  name: string;
  pass: string;
  sb: Sandbox;
  /** Their age recipient, from `keyrack whoami`. */
  recipient: string;
  /** keyrack as this person, in `cwd`. */
  kr(args: string[], o?: { cwd?: string; input?: string }): Promise<Result>;
  /** git as this person. */
  git(args: string[], cwd: string): Promise<Result>;
}

/** A person with a fresh sandbox and `keyrack init` done (passphrase from stdin). */
export async function person(name: string): Promise<Person> {
  const sb = sandbox();
  const pass = `pass of ${name} ✓`;
  const kr = (args: string[], o: { cwd?: string; input?: string } = {}) => keyrack(args, { env: sb.env, ...o });
  const init = await kr(['init'], { input: `${pass}\n` });
  assert.equal(init.code, 0, init.stderr);
  const who = await kr(['whoami']);
  assert.equal(who.code, 0, who.stderr);
  assert.match(who.stdout, /^age1[02-9ac-hj-np-z]{58}\n$/, 'whoami: one line, the recipient');
  const git = async (args: string[], cwd: string) => {
    const r = await run('git', ['-c', `user.name=${name}`, '-c', `user.email=${name}@example.com`, '-c', 'init.defaultBranch=main', ...args], { env: sb.env, cwd });
    assert.equal(r.code, 0, `git ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  return { name, pass, sb, recipient: who.stdout.trim(), kr, git };
}

/** The person's identity in plaintext (AGE-SECRET-KEY-1…), written by the real age into `out`. */
export async function plainIdentity(p: Person, out: string): Promise<string> {
  const pty = new Pty(['age', '-d', '-o', out, join(p.sb.env.XDG_DATA_HOME!, 'keyrack', 'secure', 'identity.age')]);
  await pty.expect(/passphrase[^:]*: /i);
  pty.write(`${p.pass}\r`);
  assert.equal(await pty.exited, 0, pty.output);
  return out;
}

/** The armored value of `key` in a team file's text (BEGIN to END, with a final newline). */
export function armorOf(teamText: string, key: string): string {
  const lines = teamText.split('\n');
  const at = lines.findIndex((l) => l === `key ${key}` || l.startsWith(`key ${key} `));
  assert.ok(at !== -1, `no key ${key} in the team file`);
  const end = lines.indexOf('-----END AGE ENCRYPTED FILE-----', at);
  return lines.slice(at + 1, end + 1).join('\n') + '\n';
}

/** The `recipient LABEL …` lines of a team file, in order. */
export function recipientLines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.startsWith('recipient '));
}

/** The lines keyrack printed, without the shell's echo around them. */
export const hints = (out: string): string[] =>
  out.split(/\r?\n/).filter((l) => l.includes('keyrack:')).map((l) => l.replace(/^[\s\S]*?keyrack:/, 'keyrack:').trim());

/** Passes every value through stdin, as `printf '%s\n' VALUE | keyrack team set KEY` would. */
export const line = (v: string): string => `${v}\n`;
