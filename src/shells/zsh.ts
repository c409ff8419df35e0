/** zsh: `eval "$(keyrack export zsh)"`, from the hook in shell/keyrack.zsh. */
import { prevVar, renderWith, type Changes, type HookShell, type Statements } from './shell.js';
import { quotePosix } from './posix.js';

/*
 * `export` in zsh is `typeset -gx`, so it reaches the global even inside the hook
 * function; the saved copy needs `typeset -g` (a bare assignment would warn under
 * WARN_CREATE_GLOBAL).
 */
const st: Statements = {
  save: (n) => `unset ${prevVar(n)}; if [[ -n \${${n}+x} ]]; then typeset -g ${prevVar(n)}="$${n}"; fi`,
  set: (n, v) => `export ${n}=${quotePosix(v)}`,
  unset: (n) => `if [[ -n \${${prevVar(n)}+x} ]]; then export ${n}="$${prevVar(n)}"; unset ${prevVar(n)}; else unset ${n}; fi`,
  forget: (n) => `unset ${prevVar(n)}`,
  state: (v) => `export KEYRACK_STATE=${quotePosix(v)}`,
};

export const zsh: HookShell = {
  name: 'zsh',
  hookFile: 'keyrack.zsh',
  quote: quotePosix,
  render: (c: Changes) => renderWith(st, c),
};
