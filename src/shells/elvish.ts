/** elvish: `eval (… export elvish | slurp)`, from the hook in shell/keyrack.elv. */
import { renderWith, type Changes, type HookShell, type Statements } from './shell.js';

/**
 * Inside elvish single quotes every character is literal, newlines and control
 * characters included; `''` is a quote. Checked against real elvish with the corpus.
 */
export function quoteElvish(s: string): string {
  if (s.includes('\0')) throw new Error('a shell value cannot contain NUL');
  return `'${s.replaceAll("'", "''")}'`;
}

/*
 * elvish has no unexported globals: the values keyrack replaced live in a map,
 * $__keyrack_prev, that the hook's closure holds and the eval'd code sets (eval
 * sees the caller's variables and may assign them). Names are [A-Za-z_][A-Za-z0-9_]*:
 * barewords as they stand.
 */
const drop = (n: string) => `set __keyrack_prev = (dissoc $__keyrack_prev ${n})`;
const st: Statements = {
  save: (n) => `${drop(n)}; if (has-env ${n}) { set __keyrack_prev[${n}] = (get-env ${n}) }`,
  set: (n, v) => `set-env ${n} ${quoteElvish(v)}`,
  unset: (n) => `if (has-key $__keyrack_prev ${n}) { set-env ${n} $__keyrack_prev[${n}]; ${drop(n)} } else { unset-env ${n} }`,
  forget: drop,
  state: (v) => `set-env KEYRACK_STATE ${quoteElvish(v)}`,
};

export const elvish: HookShell = {
  name: 'elvish',
  hookFile: 'keyrack.elv',
  quote: quoteElvish,
  render: (c: Changes) => renderWith(st, c),
  noFast: '',
};
