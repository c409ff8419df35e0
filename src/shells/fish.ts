/** fish: `keyrack export fish | source`, from the hook in shell/keyrack.fish. */
import { prevVar, renderWith, type Changes, type HookShell, type Statements } from './shell.js';

/**
 * Inside fish single quotes only `\\` and `\'` are escapes; every other character,
 * newlines and control characters included, is literal. Escaping every backslash
 * (not only those before `\` or `'`) keeps the rule obviously exact.
 */
export function quoteFish(s: string): string {
  if (s.includes('\0')) throw new Error('a shell value cannot contain NUL');
  return `'${s.replace(/[\\']/g, '\\$&')}'`;
}

const st: Statements = {
  save: (n) => `set -eg ${prevVar(n)}; if set -q ${n}; set -g ${prevVar(n)} $${n}; end`,
  set: (n, v) => `set -gx ${n} ${quoteFish(v)}`,
  unset: (n) => `if set -q ${prevVar(n)}; set -gx ${n} $${prevVar(n)}; set -eg ${prevVar(n)}; else; set -eg ${n}; end`,
  forget: (n) => `set -eg ${prevVar(n)}`,
  state: (v) => `set -gx KEYRACK_STATE ${quoteFish(v)}`,
};

export const fish: HookShell = {
  name: 'fish',
  hookFile: 'keyrack.fish',
  quote: quoteFish,
  render: (c: Changes) => renderWith(st, c),
};
