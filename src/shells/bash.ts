/** bash: `eval "$(keyrack export bash)"`, from the hook in shell/keyrack.bash. */
import { prevVar, renderWith, type Changes, type HookShell, type Statements } from './shell.js';
import { quotePosix } from './posix.js';

/*
 * Plain assignments inside a function are global in bash (no `declare -g`, which
 * bash 3.2 lacks); the hook declares no local that a manifest name could shadow.
 */
const st: Statements = {
  save: (n) => `unset ${prevVar(n)}; if [[ -n \${${n}+x} ]]; then ${prevVar(n)}=$${n}; fi`,
  set: (n, v) => `export ${n}=${quotePosix(v)}`,
  unset: (n) => `if [[ -n \${${prevVar(n)}+x} ]]; then export ${n}="$${prevVar(n)}"; unset ${prevVar(n)}; else unset ${n}; fi`,
  forget: (n) => `unset ${prevVar(n)}`,
  state: (v) => `export KEYRACK_STATE=${quotePosix(v)}`,
};

export const bash: HookShell = {
  name: 'bash',
  hookFile: 'keyrack.bash',
  quote: quotePosix,
  render: (c: Changes) => renderWith(st, c),
};
