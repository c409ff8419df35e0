/**
 * tcsh: `… export tcsh | source /dev/stdin`, from the hook in shell/keyrack-gate.tcsh.
 * Sourced, not eval'd: `eval "`…`"` turns every newline of the output into a space,
 * while `source` reads it line by line, so a value can hold newlines; and the
 * builtin at the end of a pipeline runs in the shell itself, so it sets its variables.
 */
import { prevVar, renderWith, type Changes, type HookPaths, type HookShell, type Statements } from './shell.js';

/**
 * One word, checked by test/unit/quote.test.ts against real tcsh with the corpus:
 * single quotes keep everything literal but `!` (history, which `source` expands),
 * a newline (which needs a backslash before it) and `'` itself. So the word is
 * single-quoted runs, with `'\!'`, `'\''` and `'\\'` between them (a backslash is
 * literal inside quotes except before `!` or a newline: outside, it is always
 * exact) and `\` + newline inside the quotes for each newline. Exact as source
 * reads it with the hook's settings (no backslash_quote, default histchars).
 */
export function quoteTcsh(s: string): string {
  if (s.includes('\0')) throw new Error('a shell value cannot contain NUL');
  let out = "'";
  for (const ch of s) {
    if (ch === "'") out += "'\\''";
    else if (ch === '!') out += "'\\!'";
    else if (ch === '\\') out += "'\\\\'";
    else if (ch === '\n') out += '\\\n';
    else out += ch;
  }
  return out + "'";
}

/**
 * The same word for one line of `eval "`keyrack hook tcsh`"`: backquotes turn a
 * newline or CR into a space, so a path holding one cannot be carried there.
 */
function quoteTcshLine(s: string): string {
  if (/[\n\r]/.test(s)) throw new Error(`tcsh cannot eval a path with a line break: ${JSON.stringify(s)}`);
  return quoteTcsh(s);
}

/*
 * The saved copy is a shell variable (`set`), which children never see; `"$N:q"`
 * copies the value as one word, newlines and all, without expanding it again.
 * csh evaluates a one-line `if (…) cmd` after substituting cmd, so the blocks.
 */
const st: Statements = {
  save: (n) => `unset ${prevVar(n)}\nif ($?${n}) then\nset ${prevVar(n)} = "$${n}:q"\nendif`,
  set: (n, v) => `setenv ${n} ${quoteTcsh(v)}`,
  unset: (n) => `if ($?${prevVar(n)}) then\nsetenv ${n} "$${prevVar(n)}:q"\nunset ${prevVar(n)}\nelse\nunsetenv ${n}\nendif`,
  forget: (n) => `unset ${prevVar(n)}`,
  state: (v) => `setenv KEYRACK_STATE ${quoteTcsh(v)}`,
};

export const tcsh: HookShell = {
  name: 'tcsh',
  hookFile: 'keyrack.tcsh',
  quote: quoteTcsh,
  render: (c: Changes) => renderWith(st, c),
  noFast: '',
  // tcsh cannot eval a multi-line file (its if/while need lines of their own), so
  // the hook is one line that names the paths and sources the file itself.
  install: (file: string, p: HookPaths) => [
    `set __keyrack_gen_file = ${quoteTcshLine(p.gen)}`,
    `set __keyrack_run = ( ${p.fast ? `${quoteTcshLine(p.fast)} ` : ''}${quoteTcshLine(p.node)} ${quoteTcshLine(p.script)} )`,
    `set __keyrack_gate = ${quoteTcshLine(file.replace(/keyrack\.tcsh$/, 'keyrack-gate.tcsh'))}`,
    `source ${quoteTcshLine(file)}`,
  ].join('; ') + '\n',
};
